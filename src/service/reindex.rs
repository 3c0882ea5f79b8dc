//! Reindexing: embed every memory that lacks a vector of the current model (added before a
//! provider was set, while it was down, or under another model), batch by batch. Each batch
//! is stored before the next is read, so an interrupted run loses at most one batch and a
//! rerun continues where it stopped.

use uuid::Uuid;

use super::Semantic;
use crate::embedding::codec;
use crate::store::{MemoryStore, StoreError, UnembeddedFilter, VectorRecord};

/// Texts sent to the provider at once.
pub const BATCH: u32 = 64;

/// What a reindex did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReindexReport {
    /// The model the vectors are of.
    pub model: String,
    /// Memories embedded now.
    pub embedded: u64,
    /// Memories that had a vector of the model already.
    pub already: u64,
    /// Memories changed or deleted while being embedded (they get their vector from the
    /// server that changed them, or the next run).
    pub skipped: u64,
}

/// Why a reindex stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReindexError {
    /// The provider is `none` or could not load.
    #[error("{0}")]
    NoProvider(String),
    /// The provider failed on a batch; what was stored before stays.
    #[error(
        "the embedding provider failed after {done} of {total} memories: {reason}; run `mem0-mcp reindex` again to continue"
    )]
    Provider {
        done: u64,
        total: u64,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Embeds the memories of `project` (or of every project) that lack a vector of the
/// provider's model. `progress(done, total)` is called once before the first batch (with
/// `done` 0) and after each.
pub async fn reindex(
    store: &dyn MemoryStore,
    semantic: &Semantic,
    project: Option<&str>,
    mut progress: impl FnMut(u64, u64),
) -> Result<ReindexReport, ReindexError> {
    let Some(embedder) = semantic.embedder().await else {
        return Err(ReindexError::NoProvider(match semantic.state() {
            super::ProviderState::Failed { reason } => reason,
            _ => "no embedding provider is configured: set MEM0_EMBEDDING_PROVIDER to builtin or openai".into(),
        }));
    };
    let model = embedder.model_id().to_owned();
    let (missing, total) = store.count_unembedded(project, &model).await?;
    let mut report = ReindexReport {
        model: model.clone(),
        already: total - missing.min(total),
        ..ReindexReport::default()
    };
    progress(0, missing);
    let mut after: Option<Uuid> = None;
    let mut done = 0;
    loop {
        let batch = store
            .unembedded(&UnembeddedFilter {
                project,
                model: &model,
                after,
                limit: BATCH,
            })
            .await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.memory_id);
        let texts: Vec<String> = batch.iter().map(|m| m.content.clone()).collect();
        let vectors = match embedder.embed(&texts).await {
            Ok(vectors) if vectors.len() == texts.len() => vectors,
            Ok(vectors) => {
                return Err(ReindexError::Provider {
                    done,
                    total: missing,
                    reason: format!(
                        "{} vectors came back for {} texts",
                        vectors.len(),
                        texts.len()
                    ),
                });
            }
            Err(e) => {
                return Err(ReindexError::Provider {
                    done,
                    total: missing,
                    reason: e.to_string(),
                });
            }
        };
        for (memory, vector) in batch.iter().zip(&vectors) {
            let stored = store
                .put_vector(&VectorRecord {
                    memory_id: memory.memory_id,
                    model: &model,
                    content_hash: &memory.content_hash,
                    vector: &codec::encode(vector),
                })
                .await?;
            if stored {
                report.embedded += 1;
            } else {
                report.skipped += 1;
            }
        }
        done += batch.len() as u64;
        progress(done.min(missing.max(done)), missing.max(done));
    }
    Ok(report)
}
