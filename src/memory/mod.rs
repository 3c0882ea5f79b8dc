//! The memory domain: what a memory is, which scope it lives in, and the limits on what a
//! caller may send ([`validate`]). No SQL, no MCP and no rules that need a database here: the
//! store reads and writes these records, and the service module (above the store) applies
//! dedup, the per-scope limit and history through it.
//!
//! A user id plays four roles; each has its own field:
//!
//! | role | where | what it is |
//! |------|-------|------------|
//! | acting user | [`Scope::user_id`], `Principal::user_id` | who the session acts for (`MEM0_USER_ID`, or the token's user) |
//! | owner | [`Scope::owner_key`], column `scope_user` | whose private scope holds the rows; `""` for the shared global pool |
//! | author | [`Memory::user_id`], column `memories.user_id` | who wrote the memory; in the shared pool only they (or an admin) may change it |
//! | actor | [`HistoryEvent::actor`], column `memory_history.user_id` | who made one change, with the display id of their token |

pub mod search_text;
pub mod validate;

pub use validate::{
    MAX_CONTENT_BYTES, MAX_METADATA_BYTES, MAX_QUERY_CHARS, MAX_TAG_CHARS, MAX_TAGS, content_hash,
    parse_memory_id, validate_content, validate_expires_at, validate_limit, validate_metadata,
    validate_query, validate_tags,
};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::project::ProjectMode;

/// JSON object attached to a memory by the caller.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// The project id every user shares in `global` mode.
pub const GLOBAL_PROJECT: &str = "global";

/// Where a tool call reads and writes: the acting user and the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Scope {
    /// The user the server acts for.
    pub user_id: String,
    /// The project memories are grouped by (`global` in global mode).
    pub project_id: String,
    /// How the project was chosen.
    pub mode: ProjectMode,
}

impl Scope {
    /// The key rows are filed under: the owner of a private scope, or "" for the shared pool.
    pub fn owner_key(&self) -> &str {
        match self.mode {
            ProjectMode::Global => "",
            _ => &self.user_id,
        }
    }

    pub fn is_shared(&self) -> bool {
        self.mode == ProjectMode::Global
    }
}

/// A stored memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    pub id: Uuid,
    /// The author.
    pub user_id: String,
    pub content: String,
    pub tags: Vec<String>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it stops being returned and is purged; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Memory {
    /// True once its expiry time has come (it then behaves as deleted).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A validated memory about to be stored.
#[derive(Debug, Clone)]
pub struct NewMemory {
    pub id: Uuid,
    pub content: String,
    pub content_hash: String,
    pub tags: Vec<String>,
    pub metadata: Metadata,
    pub at: DateTime<Utc>,
    /// When it expires (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// Its embedding, stored with it in the same transaction (`None`: no provider, or the
    /// provider failed; `reindex` adds it later).
    pub vector: Option<NewVector>,
}

/// The embedding vector of a memory about to be stored.
#[derive(Clone)]
pub struct NewVector {
    /// The model that made it, e.g. `builtin:0123abcdef01`.
    pub model: String,
    /// The vector, encoded (little-endian f32).
    pub vector: Vec<u8>,
}

impl std::fmt::Debug for NewVector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewVector")
            .field("model", &self.model)
            .field("bytes", &self.vector.len())
            .finish()
    }
}

/// Validated changes to a memory; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct MemoryChanges {
    pub content: Option<(String, String)>,
    pub tags: Option<Vec<String>>,
    pub metadata: Option<Metadata>,
    /// `Some(None)` clears the expiry, `Some(Some(t))` sets it.
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl MemoryChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.content.is_none()
            && self.tags.is_none()
            && self.metadata.is_none()
            && self.expires_at.is_none()
    }
}

/// A memory found by search, with its relevance (higher is better).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredMemory {
    pub memory: Memory,
    pub score: f64,
}

/// One entry of a memory's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    pub event: HistoryKind,
    pub content: String,
    pub actor: String,
    pub actor_token: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum HistoryKind {
    Add,
    Update,
    Delete,
}

impl HistoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryKind::Add => "ADD",
            HistoryKind::Update => "UPDATE",
            HistoryKind::Delete => "DELETE",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ADD" => Some(HistoryKind::Add),
            "UPDATE" => Some(HistoryKind::Update),
            "DELETE" => Some(HistoryKind::Delete),
            _ => None,
        }
    }
}

/// Position after the last memory of a page, for newest-first keyset pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn after(memory: &Memory) -> Self {
        Cursor {
            created_at: memory.created_at,
            id: memory.id,
        }
    }

    /// An opaque string: callers hand it back unchanged.
    pub fn encode(&self) -> String {
        use base64::Engine;
        let raw = format!("{}:{}", self.created_at.timestamp_micros(), self.id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(value: &str) -> Option<Self> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value.trim())
            .ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (micros, id) = raw.split_once(':')?;
        Some(Cursor {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// The current time at the precision both databases keep (microseconds), so a value read back
/// equals the value written.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor {
            created_at: now(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "abc", "!!!", "MTIzOm5vdC1hLXV1aWQ"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn global_scope_files_rows_under_the_shared_key() {
        let scope = Scope {
            user_id: "alice".into(),
            project_id: GLOBAL_PROJECT.into(),
            mode: ProjectMode::Global,
        };
        assert_eq!(scope.owner_key(), "");
        let private = Scope {
            mode: ProjectMode::Manual,
            ..scope
        };
        assert_eq!(private.owner_key(), "alice");
    }
}
