//! Lexical search in the memory service: each scope's memories indexed in this process and
//! ranked by BM25 ([`index`]), the same way whichever backend stores them. Before every search
//! the store's stamp of the scope (one primary-key read) is compared with the one the index was
//! built at, so a write by any process shows in the next search; a stale index is rebuilt,
//! analysing only memories whose content it has not seen.
//!
//! This process's own writes are applied to the index directly ([`Lexical::note`]), with the
//! stamp moved by exactly what each write does to the scope's counters. If anything else
//! changed the scope too, the stamps then differ and the next search rebuilds: a write noted
//! here can make a rebuild unnecessary, never an index wrong.
//!
//! Scopes over [`MAX_INDEXED`] memories are left to the database's full-text index, which
//! needs no memory here.

mod analyze;
mod index;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::Utc;
use uuid::Uuid;

use self::analyze::Analyzer;
pub use self::index::Change;
use self::index::Hit;
use self::index::ScopeIndex;
use crate::memory::{Memory, Scope, ScoredMemory};
use crate::store::{MemoryStore, SearchDocument, SearchTerms, StoreError};

/// Largest scope (in memories) ranked in this process; larger ones are ranked by the database.
/// At about 1 KiB per memory indexed, 50,000 memories take some 50 MB.
pub const MAX_INDEXED: i64 = 50_000;

/// Most scopes kept indexed at once (a team server serves many); the least recently searched
/// goes first.
const CACHED_SCOPES: usize = 32;

/// Most memories kept indexed across all cached scopes.
const CACHED_MEMORIES: usize = 200_000;

type ScopeKey = (String, String);

/// A memory as the index holds it.
pub fn document_of(memory: &Memory) -> SearchDocument {
    SearchDocument {
        id: memory.id,
        content: memory.content.clone(),
        content_hash: crate::memory::content_hash(&memory.content),
        tags: memory.tags.clone(),
        created_at: memory.created_at,
        expires_at: memory.expires_at,
    }
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<ScopeKey, (Arc<RwLock<ScopeIndex>>, u64)>,
    clock: u64,
}

/// The lexical side of the memory service.
#[derive(Debug, Default)]
pub struct Lexical {
    analyzer: Arc<Analyzer>,
    cache: Mutex<Cache>,
}

impl Lexical {
    /// The scope's memories that match `query` (parsed as `terms`) and carry every one of
    /// `tags`, best first, at most `limit`, each with its score (0 to 1): ranked here, or by the
    /// database for a scope over [`MAX_INDEXED`] memories. The rows come from the store by id
    /// after ranking, so each result is as stored now (one deleted meanwhile is left out).
    ///
    /// Errors: the store could not be read.
    pub async fn search(
        &self,
        store: &dyn MemoryStore,
        scope: &Scope,
        query: &str,
        terms: &SearchTerms,
        tags: &[String],
        limit: u32,
    ) -> Result<Vec<ScoredMemory>, StoreError> {
        let Some(hits) = self
            .rank(store, scope, query, terms, tags, limit as usize)
            .await?
        else {
            return store.search_memories(scope, terms, tags, limit).await;
        };
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
        let mut rows: HashMap<Uuid, Memory> = store
            .memories_by_ids(scope, &ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(hits
            .into_iter()
            .filter_map(|hit| {
                rows.remove(&hit.id).map(|memory| ScoredMemory {
                    memory,
                    score: hit.score,
                })
            })
            .collect())
    }

    /// The scope's memories that match `query` (its words, and the literal fragments of
    /// `terms`) and carry every one of `tags`, best first, at most `limit`; `None` when the scope
    /// is too large to index here (rank it in the database).
    ///
    /// Errors: the store could not be read.
    async fn rank(
        &self,
        store: &dyn MemoryStore,
        scope: &Scope,
        query: &str,
        terms: &SearchTerms,
        tags: &[String],
        limit: usize,
    ) -> Result<Option<Vec<Hit>>, StoreError> {
        // The stamp is read before the memories: a write in between makes the index newer than
        // its stamp, and the next search rebuilds it; never the other way round.
        let stamp = store.scope_stamp(scope).await?;
        if stamp.memories > MAX_INDEXED {
            return Ok(None);
        }
        let key = (scope.owner_key().to_string(), scope.project_id.clone());
        let words = self.analyzer.query_terms(query);
        let cached = self.lookup(&key);
        if let Some(index) = &cached {
            let index = index.read().unwrap_or_else(|e| e.into_inner());
            if index.stamp() == stamp {
                return Ok(Some(index.search(
                    &words,
                    &terms.fragments,
                    tags,
                    Utc::now(),
                    limit,
                )));
            }
        }
        let started = std::time::Instant::now();
        let documents = store.scope_documents(scope).await?;
        let analyzer = self.analyzer.clone();
        // Analysing thousands of memories takes milliseconds of CPU: off the async threads, so
        // other sessions' calls go on meanwhile.
        let built = tokio::task::spawn_blocking(move || {
            let previous = cached
                .as_ref()
                .map(|index| index.read().unwrap_or_else(|e| e.into_inner()));
            ScopeIndex::build(stamp, documents, previous.as_deref(), &analyzer)
        })
        .await
        .map_err(|e| {
            StoreError::Query(sqlx::Error::Protocol(format!(
                "indexing the scope for search failed: {e}"
            )))
        })?;
        tracing::debug!(
            memories = built.len(),
            ms = started.elapsed().as_millis() as u64,
            "indexed the scope for search"
        );
        let hits = built.search(&words, &terms.fragments, tags, Utc::now(), limit);
        self.keep(key, Arc::new(RwLock::new(built)));
        Ok(Some(hits))
    }

    /// Applies a write this process made in `scope` to its index, if one is cached (see the
    /// module's notes for why this is safe whatever else happens meanwhile).
    pub fn note(&self, scope: &Scope, change: Change) {
        let key = (scope.owner_key().to_string(), scope.project_id.clone());
        let Some(entry) = self.lookup(&key) else {
            return;
        };
        let mostly_dead = {
            let mut index = entry.write().unwrap_or_else(|e| e.into_inner());
            index.apply(change, &self.analyzer);
            index.is_mostly_dead()
        };
        if mostly_dead {
            // Rebuilt from the store by the next search.
            self.forget(scope);
        }
    }

    /// Drops the scope's index (after a bulk change): the next search rebuilds it.
    pub fn forget(&self, scope: &Scope) {
        let key = (scope.owner_key().to_string(), scope.project_id.clone());
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.entries.remove(&key);
    }

    fn lookup(&self, key: &ScopeKey) -> Option<Arc<RwLock<ScopeIndex>>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.clock += 1;
        let now = cache.clock;
        cache.entries.get_mut(key).map(|(index, used)| {
            *used = now;
            index.clone()
        })
    }

    /// Caches `index`, then drops the least recently searched scopes beyond the limits.
    fn keep(&self, key: ScopeKey, index: Arc<RwLock<ScopeIndex>>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.clock += 1;
        let now = cache.clock;
        cache.entries.insert(key.clone(), (index, now));
        loop {
            let memories: usize = cache
                .entries
                .values()
                .map(|(i, _)| i.read().map_or(0, |i| i.len()))
                .sum();
            if cache.entries.len() <= CACHED_SCOPES && memories <= CACHED_MEMORIES {
                break;
            }
            let oldest = cache
                .entries
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(oldest) => {
                    cache.entries.remove(&oldest);
                }
                None => break,
            }
        }
    }
}
