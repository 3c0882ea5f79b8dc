//! Search in the memory service: the lexical ranking alone, or, with an embedding provider,
//! fused with what meaning says of the query (see [`super::fusion`]).

use uuid::Uuid;

use super::{MemoryError, MemoryService, semantic, store_failure};
use crate::memory::{Scope, ScoredMemory, validate};
use crate::store::SearchTerms;

impl MemoryService {
    /// The scope's memories that best answer `query`, at most `limit` (default 10, at most
    /// 100), each carrying every one of `tags`, best first with a score from 0 to 1. A provider
    /// that fails leaves the search lexical (logged, never an error).
    ///
    /// Errors: invalid input, or the store failed.
    pub async fn search(
        &self,
        scope: &Scope,
        query: &str,
        limit: Option<i64>,
        tags: Option<&[String]>,
    ) -> Result<Vec<ScoredMemory>, MemoryError> {
        let query = validate::validate_query(query).map_err(MemoryError::Invalid)?;
        let limit = validate::validate_limit(limit, 10, 100).map_err(MemoryError::Invalid)?;
        let tags =
            validate::validate_tags(tags.unwrap_or_default()).map_err(MemoryError::Invalid)?;
        let terms = SearchTerms::parse(&query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        if !self.semantic.is_enabled() {
            return self
                .lexical
                .search(self.store.as_ref(), scope, &query, &terms, &tags, limit)
                .await
                .map_err(|e| store_failure(e, "search memories"));
        }
        // Both sides bring more candidates than asked, so that fusion can choose among them.
        let candidates = (limit * 2).clamp(20, 100);
        let lexical = self
            .lexical
            .search(
                self.store.as_ref(),
                scope,
                &query,
                &terms,
                &tags,
                candidates,
            )
            .await
            .map_err(|e| store_failure(e, "search memories"))?;
        let lexical_ids: Vec<Uuid> = lexical.iter().map(|m| m.memory.id).collect();
        let nearest = match self
            .semantic
            .nearest(
                self.store.as_ref(),
                scope,
                &query,
                candidates as usize,
                &lexical_ids,
            )
            .await
        {
            Ok(nearest) => nearest,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the scope's vectors; this search is lexical only");
                None
            }
        };
        let Some(nearest) = nearest else {
            return Ok(lexical.into_iter().take(limit as usize).collect());
        };
        self.fuse(scope, lexical, &nearest, &tags, limit as usize)
            .await
    }

    /// The lexical results and what meaning says of the query, fused by score (see
    /// [`super::fusion`]); memories found only by meaning are read from the store (and must carry
    /// `tags`).
    async fn fuse(
        &self,
        scope: &Scope,
        lexical: Vec<ScoredMemory>,
        nearest: &semantic::Nearest,
        tags: &[String],
        limit: usize,
    ) -> Result<Vec<ScoredMemory>, MemoryError> {
        let lexical_scores: Vec<(Uuid, f64)> =
            lexical.iter().map(|m| (m.memory.id, m.score)).collect();
        let mut found: std::collections::HashMap<Uuid, crate::memory::Memory> = lexical
            .into_iter()
            .map(|m| (m.memory.id, m.memory))
            .collect();
        let fused = super::fusion::fuse(&lexical_scores, &nearest.similarities, nearest.scale);
        // Memories found by meaning only, among those that can make the cut, in one read.
        let missing: Vec<Uuid> = fused
            .iter()
            .take(limit * 2)
            .map(|(id, _)| *id)
            .filter(|id| !found.contains_key(id))
            .collect();
        if !missing.is_empty() {
            let read = self
                .store
                .memories_by_ids(scope, &missing)
                .await
                .map_err(|e| store_failure(e, "search memories"))?;
            // Without a tag asked for: not a result (the lexical side filtered in SQL).
            found.extend(
                read.into_iter()
                    .filter(|m| tags.iter().all(|t| m.tags.contains(t)))
                    .map(|m| (m.id, m)),
            );
        }
        let mut results = Vec::with_capacity(limit);
        for (id, score) in fused {
            if results.len() == limit {
                break;
            }
            // Deleted since its vector was read, or without a tag asked for.
            let Some(memory) = found.remove(&id) else {
                continue;
            };
            results.push(ScoredMemory { memory, score });
        }
        Ok(results)
    }
}
