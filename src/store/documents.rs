//! A scope's memories as the in-process search index reads them (see `crate::service::lexical`):
//! only what ranking and filtering need, and the stamp that tells whether an index built
//! earlier still describes the scope.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Changes whenever the scope's memories change: how many there are, and how many inserts,
/// edits and deletes the scope has seen (both kept by triggers for every writer, so a write by
/// another process or by hand changes it too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeStamp {
    pub memories: i64,
    pub changes: i64,
}

/// One memory of a scope, for indexing: its text, tags, and the times ranking and expiry use.
/// Expired memories are included (the index skips them at query time, so an index stays right
/// while time passes).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDocument {
    pub id: Uuid,
    pub content: String,
    /// The content's hash as stored: an index rebuilt after a change reuses the analysis of
    /// every memory whose hash it already knows.
    pub content_hash: String,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}
