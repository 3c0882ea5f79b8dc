//! Semantic search in the memory service: the configured embedding provider, loaded once and
//! lazily (after the MCP handshake, so start-up does not wait for it), the vectors of memories
//! kept in step with their content, and the nearest memories to a query by cosine similarity,
//! compared here in Rust over a per-scope cache. The cache is checked against the store's
//! stamp of the scope's vectors on every search, so writes by other processes show at once.
//!
//! A provider that cannot load or answer never fails a tool call: search falls back to the
//! lexical ranking, and the log gets one warning (again only after the provider has worked in
//! between). After a failure the provider is left alone for 30 s, so an endpoint that hangs
//! costs one call its timeout, not every call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use uuid::Uuid;

use super::fusion::VectorScale;
use crate::embedding::{self, EmbedError, Embedder, codec};
use crate::memory::{NewVector, Scope};
use crate::settings::EmbeddingProvider;
use crate::store::{MemoryStore, StoreError, VectorRecord};

/// After a failed provider call, how long tool calls skip the provider (and are lexical only)
/// before trying it again: an endpoint that hangs must not cost every call its full timeout.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// Most scopes whose vectors are cached (each about 1 KiB per memory at 256 dimensions).
const CACHED_SCOPES: usize = 16;

/// What the provider is doing, for `memory_status` and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderState {
    /// `none`: lexical search only.
    Off,
    /// Configured, not loaded yet.
    NotLoaded,
    /// Loaded: vectors are made by this model.
    Ready { model: String },
    /// Could not load, or its last call failed (search is lexical only until it answers
    /// again): why, and how to fix it.
    Failed { reason: String },
}

impl ProviderState {
    /// `off`, `not_loaded`, `ready` or `failed`, as `memory_status` names it.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderState::Off => "off",
            ProviderState::NotLoaded => "not_loaded",
            ProviderState::Ready { .. } => "ready",
            ProviderState::Failed { .. } => "failed",
        }
    }
}

/// What the vector side knows of one query, for [`super::fusion::fuse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Nearest {
    /// Cosine similarities to the query: the nearest memories (best first), then the asked-for
    /// ones (any similarity; a memory may appear twice with the same value).
    pub similarities: Vec<(Uuid, f32)>,
    /// How the model's similarities count.
    pub scale: VectorScale,
}

/// What `memory_status` reports of semantic search in one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemanticStatus {
    /// The configured provider: `none`, `builtin` or `openai`.
    pub provider: &'static str,
    /// The model that makes the vectors, once loaded (also while its calls fail).
    pub model: Option<String>,
    pub state: ProviderState,
    /// Memories of the scope with a vector of `model`; `None` until the model is loaded.
    pub embedded: Option<u64>,
}

/// The vectors of one scope and model, normalized, one after another.
#[derive(Debug, Clone)]
struct ScopeIndex {
    model: String,
    /// The scope's vector change counter these vectors are as of
    /// ([`MemoryStore::vector_changes`]).
    stamp: i64,
    dims: usize,
    ids: Vec<Uuid>,
    data: Vec<f32>,
}

/// The embedding side of the memory service.
#[derive(Debug)]
pub struct Semantic {
    provider: EmbeddingProvider,
    loaded: OnceCell<Result<Arc<dyn Embedder>, EmbedError>>,
    /// A provider call failed and that was logged; cleared by the next success.
    failing: AtomicBool,
    /// When the last provider call failed.
    failed_at: Mutex<Option<std::time::Instant>>,
    /// Why the last provider call failed; cleared by the next success.
    last_failure: Mutex<Option<String>>,
    cache: Mutex<HashMap<(String, String), Arc<ScopeIndex>>>,
}

impl Semantic {
    /// Semantic search with `provider` (nothing is loaded yet).
    pub fn new(provider: EmbeddingProvider) -> Self {
        Semantic {
            provider,
            loaded: OnceCell::new(),
            failing: AtomicBool::new(false),
            failed_at: Mutex::new(None),
            last_failure: Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Lexical search only.
    pub fn off() -> Self {
        Semantic::new(EmbeddingProvider::None)
    }

    /// True unless the provider is `none`.
    pub fn is_enabled(&self) -> bool {
        self.provider != EmbeddingProvider::None
    }

    /// The configured provider.
    pub fn provider(&self) -> &EmbeddingProvider {
        &self.provider
    }

    /// Starts loading the provider in the background (call once the handshake is answered).
    pub fn warm(self: &Arc<Self>) {
        if self.is_enabled() {
            let this = self.clone();
            tokio::spawn(async move {
                this.embedder().await;
            });
        }
    }

    /// The loaded provider, loading it on first use; `None` when off or when it failed to
    /// load (logged once, as a warning).
    pub async fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        if !self.is_enabled() {
            return None;
        }
        let loaded = self
            .loaded
            .get_or_init(|| async {
                let started = std::time::Instant::now();
                match embedding::load(&self.provider).await {
                    Ok(Some(embedder)) => {
                        tracing::info!(
                            provider = self.provider.name(),
                            model = embedder.model_id(),
                            ms = started.elapsed().as_millis() as u64,
                            "embedding model loaded"
                        );
                        Ok(embedder)
                    }
                    Ok(None) => Err(EmbedError("no embedding provider".into())),
                    Err(e) => {
                        tracing::warn!(
                            provider = self.provider.name(),
                            "semantic search is off, search is lexical only: {e}"
                        );
                        Err(e)
                    }
                }
            })
            .await;
        loaded.as_ref().ok().cloned()
    }

    /// The provider's state, without loading it: a loaded provider whose last call failed
    /// is `Failed` until a call succeeds again.
    pub fn state(&self) -> ProviderState {
        if !self.is_enabled() {
            return ProviderState::Off;
        }
        let last_failure = self.failure().clone();
        match self.loaded.get() {
            None => ProviderState::NotLoaded,
            Some(Ok(embedder)) => match last_failure {
                Some(e) => ProviderState::Failed {
                    reason: format!(
                        "the model {} is loaded but its last call failed, so search is lexical only until it answers: {e}",
                        embedder.model_id()
                    ),
                },
                None => ProviderState::Ready {
                    model: embedder.model_id().to_owned(),
                },
            },
            Some(Err(e)) => ProviderState::Failed {
                reason: e.to_string(),
            },
        }
    }

    /// The provider's state in `scope`, with how many of its memories have a vector of the
    /// loaded model (one count query; nothing is loaded or embedded here).
    ///
    /// Errors: the store could not count the vectors.
    pub async fn status(
        &self,
        store: &dyn MemoryStore,
        scope: &Scope,
    ) -> Result<SemanticStatus, StoreError> {
        let model = match self.loaded.get() {
            Some(Ok(embedder)) => Some(embedder.model_id().to_owned()),
            _ => None,
        };
        let embedded = match &model {
            Some(model) => Some(store.vector_stamp(scope, model).await?.count.max(0) as u64),
            None => None,
        };
        Ok(SemanticStatus {
            provider: self.provider.name(),
            model,
            state: self.state(),
            embedded,
        })
    }

    fn failure(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // A panic while holding the lock leaves a message that is still true: keep it.
        self.last_failure.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs a failed provider call once per outage.
    fn note(&self, outcome: &Result<(), String>) {
        match outcome {
            Ok(()) => {
                *self.failure() = None;
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("the embedding provider answers again; semantic search is back");
                }
            }
            Err(e) => {
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(std::time::Instant::now());
                *self.failure() = Some(e.clone());
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        provider = self.provider.name(),
                        "semantic search falls back to lexical: {e}"
                    );
                }
            }
        }
    }

    async fn embed_one(&self, text: &str) -> Option<(Arc<dyn Embedder>, Vec<f32>)> {
        let embedder = self.embedder().await?;
        let resting = self
            .failed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| at.elapsed() < RETRY_AFTER);
        if resting {
            return None;
        }
        let result = embedder.embed(&[text.to_owned()]).await;
        match result {
            Ok(mut vectors) if vectors.len() == 1 => {
                self.note(&Ok(()));
                vectors.pop().map(|v| (embedder, v))
            }
            Ok(vectors) => {
                self.note(&Err(format!(
                    "the provider returned {} vectors for one text",
                    vectors.len()
                )));
                None
            }
            Err(e) => {
                self.note(&Err(e.to_string()));
                None
            }
        }
    }

    /// The vector of a memory's content, to store with it; `None` when there is no provider
    /// or it failed (logged: the memory is still found by its words, and `reindex` embeds it
    /// later).
    pub async fn vector_of(&self, content: &str) -> Option<NewVector> {
        let (embedder, vector) = self.embed_one(content).await?;
        Some(NewVector {
            model: embedder.model_id().to_owned(),
            vector: codec::encode(&vector),
        })
    }

    /// Embeds a memory's content and stores the vector; a failure is logged (the memory is
    /// still found by its words, and `reindex` embeds it later).
    pub async fn index(&self, store: &dyn MemoryStore, memory_id: Uuid, content: &str) {
        let Some((embedder, vector)) = self.embed_one(content).await else {
            return;
        };
        let hash = crate::memory::validate::content_hash(content);
        let record = VectorRecord {
            memory_id,
            model: embedder.model_id(),
            content_hash: &hash,
            vector: &codec::encode(&vector),
        };
        if let Err(e) = store.put_vector(&record).await {
            tracing::warn!(error = %e, memory.id = %memory_id, "could not store the memory's vector; `mem0-mcp reindex` adds it later");
        }
    }

    /// What meaning says about `query` in the scope: the memories nearest to it, best first,
    /// at most `n`, each at least the model's [`Embedder::min_similarity`]; and the similarity
    /// of each memory of `also` that has a vector (the lexical candidates, so that fusion sees
    /// both sides of every candidate). `None` when there is no provider or it failed.
    ///
    /// Errors: the store could not read the scope's vectors.
    pub async fn nearest(
        &self,
        store: &dyn MemoryStore,
        scope: &Scope,
        query: &str,
        n: usize,
        also: &[Uuid],
    ) -> Result<Option<Nearest>, StoreError> {
        let Some((embedder, query)) = self.embed_one(query).await else {
            return Ok(None);
        };
        let index = self.scope_index(store, scope, embedder.model_id()).await?;
        let floor = embedder.min_similarity();
        let mut similarities = top(&index, &query, n, floor);
        similarities.extend(similarities_of(&index, &query, also));
        Ok(Some(Nearest {
            similarities,
            scale: VectorScale {
                floor,
                weight: embedder.vector_weight(),
            },
        }))
    }

    async fn scope_index(
        &self,
        store: &dyn MemoryStore,
        scope: &Scope,
        model: &str,
    ) -> Result<Arc<ScopeIndex>, StoreError> {
        let key = (scope.owner_key().to_owned(), scope.project_id.clone());
        // Read before the vectors: a write in between makes the next search load them again.
        let stamp = store.vector_changes(scope).await?;
        if let Some(index) = self.lock().get(&key)
            && index.stamp == stamp
            && index.model == model
        {
            return Ok(index.clone());
        }
        let cached = self.lock().get(&key).map(|index| index.stamp);
        tracing::debug!(?cached, stamp, "loading the scope's vectors");
        let stored = store.scope_vectors(scope, model).await?;
        let dims = stored
            .first()
            .map(|v| v.vector.len() / 4)
            .unwrap_or_default();
        let mut index = ScopeIndex {
            model: model.to_owned(),
            stamp,
            dims,
            ids: Vec::with_capacity(stored.len()),
            data: Vec::with_capacity(stored.len() * dims),
        };
        for row in stored {
            match codec::decode(&row.vector) {
                Some(v) if v.len() == dims => {
                    index.ids.push(row.memory_id);
                    index.data.extend(v);
                }
                _ => {
                    tracing::warn!(memory.id = %row.memory_id, model, "skipping a stored vector of the wrong size; `mem0-mcp reindex` replaces it")
                }
            }
        }
        let index = Arc::new(index);
        let mut cache = self.lock();
        if cache.len() >= CACHED_SCOPES && !cache.contains_key(&key) {
            cache.clear();
        }
        cache.insert(key, index.clone());
        Ok(index)
    }

    /// Adds the vector this process just stored with a new memory to the scope's cached
    /// vectors, so the next search need not load them all again. The insert moved the scope's
    /// vector counter by exactly one and so does the cache's: a cache that was current stays
    /// current, and one that was not (another writer came in between, or the insert's
    /// transaction also purged expired memories) still differs, so the next search reloads.
    pub fn note_added(&self, scope: &Scope, memory_id: Uuid, vector: &NewVector) {
        let Some(values) = codec::decode(&vector.vector) else {
            return;
        };
        let key = (scope.owner_key().to_owned(), scope.project_id.clone());
        let mut cache = self.lock();
        let Some(index) = cache.get_mut(&key) else {
            return;
        };
        if index.model != vector.model || (index.dims != 0 && index.dims != values.len()) {
            cache.remove(&key);
            return;
        }
        // Copied only while a search still reads the old one.
        let index = Arc::make_mut(index);
        index.dims = values.len();
        index.ids.push(memory_id);
        index.data.extend(values);
        index.stamp += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<ScopeIndex>>> {
        // A panic while holding the lock leaves a cache that is still valid: keep using it.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The similarity to `query` of each memory of `ids` that has a vector in `index`.
fn similarities_of(index: &ScopeIndex, query: &[f32], ids: &[Uuid]) -> Vec<(Uuid, f32)> {
    if index.dims == 0 || query.len() != index.dims || ids.is_empty() {
        return Vec::new();
    }
    let wanted: std::collections::HashSet<&Uuid> = ids.iter().collect();
    index
        .data
        .chunks_exact(index.dims)
        .zip(&index.ids)
        .filter(|(_, id)| wanted.contains(id))
        .map(|(v, id)| (*id, v.iter().zip(query).map(|(a, b)| a * b).sum::<f32>()))
        .collect()
}

/// The `n` best matches of `query` in `index`, at least `floor`, best first.
fn top(index: &ScopeIndex, query: &[f32], n: usize, floor: f32) -> Vec<(Uuid, f32)> {
    if index.dims == 0 || query.len() != index.dims || n == 0 {
        return Vec::new();
    }
    let mut scored: Vec<(Uuid, f32)> = index
        .data
        .chunks_exact(index.dims)
        .zip(&index.ids)
        .map(|(v, id)| (*id, v.iter().zip(query).map(|(a, b)| a * b).sum::<f32>()))
        .filter(|(_, s)| *s >= floor)
        .collect();
    if scored.len() > n {
        scored.select_nth_unstable_by(n - 1, |a, b| b.1.total_cmp(&a.1));
        scored.truncate(n);
    }
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_keeps_the_best_above_the_floor_in_order() {
        let ids: Vec<Uuid> = (1..=4).map(Uuid::from_u128).collect();
        let index = ScopeIndex {
            model: "m".into(),
            stamp: 0,
            dims: 2,
            ids: ids.clone(),
            // similarities to (1, 0): 0.6, 1.0, 0.1, 0.8
            data: vec![0.6, 0.8, 1.0, 0.0, 0.1, 0.99, 0.8, 0.6],
        };
        let got: Vec<Uuid> = top(&index, &[1.0, 0.0], 2, 0.3)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(got, vec![ids[1], ids[3]]);
        let got: Vec<Uuid> = top(&index, &[1.0, 0.0], 10, 0.3)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(got, vec![ids[1], ids[3], ids[0]], "0.1 is under the floor");
        assert!(
            top(&index, &[1.0, 0.0, 0.0], 10, 0.3).is_empty(),
            "another model's size"
        );
    }
}
