//! Row mapping for the embedded SQLite file, in one place: each wrapper reads one kind of row
//! with [`sqlx::FromRow`] (as atuin's `wrappers.rs` does). SQLite keeps ids, JSON and times as
//! text, so this is also where text turns back into values, and [`time_to_text`] where times
//! become text. A value this binary would not have written reads back as
//! `StoreError::Corrupt`.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};
use uuid::Uuid;

use crate::memory::{HistoryEvent, Memory, ScoredMemory};
use crate::store::migrations::AppliedMigration;
use crate::store::{
    AuditEntry, AuditRecord, AuthStats, SearchDocument, TokenRecord, audit_event, corrupt,
    history_kind, metadata_from_json, permissions_from_json, tags_from_json,
};

/// The columns [`MemoryRow`] reads, of `memories` under the alias `m` (the full-text table has
/// a `content` column too).
pub(super) const MEMORY_COLUMNS: &str =
    "m.id, m.user_id, m.content, m.tags, m.metadata, m.created_at, m.updated_at, m.expires_at";

/// True for a row of `memories m` that has not expired (an expired memory behaves as deleted
/// until it is purged). SQLite's clock text has milliseconds, so a memory may count as expired
/// up to a millisecond early.
pub(super) const NOT_EXPIRED: &str =
    "(m.expires_at IS NULL OR m.expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";

/// The same columns as `RETURNING` names them (it takes no table alias).
pub(super) const MEMORY_FIELDS: &str =
    "id, user_id, content, tags, metadata, created_at, updated_at, expires_at";

/// The columns [`TokenRow`] reads.
pub(super) const TOKEN_COLUMNS: &str = "id, public_id, token_prefix, user_id, name, email, created_at, expires_at, is_enabled, last_used_at, created_by, permissions";

/// Fixed-width UTC text, so that comparing text compares time.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// A time as stored.
pub(super) fn time_to_text(at: DateTime<Utc>) -> String {
    at.format(TIME_FORMAT).to_string()
}

fn time_from_text(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    NaiveDateTime::parse_from_str(text, TIME_FORMAT)
        .map(|t| t.and_utc())
        .map_err(|e| corrupt(format!("timestamp '{text}': {e}")))
}

fn time_column(row: &SqliteRow, name: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    time_from_text(row.try_get(name)?)
}

fn optional_time_column(row: &SqliteRow, name: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let text: Option<&str> = row.try_get(name)?;
    text.map(time_from_text).transpose()
}

fn json_column(row: &SqliteRow, name: &str) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::from_str(row.try_get(name)?).map_err(|e| corrupt(format!("{name}: {e}")))
}

/// Tags as stored: a JSON array.
pub(super) fn tags_json(tags: &[String]) -> String {
    serde_json::Value::from(tags.to_vec()).to_string()
}

/// Metadata as stored: a JSON object.
pub(super) fn metadata_json(metadata: &crate::memory::Metadata) -> String {
    serde_json::Value::Object(metadata.clone()).to_string()
}

/// Memory ids as stored, in a JSON array for `json_each(?)`.
pub(super) fn ids_json(ids: &[Uuid]) -> String {
    serde_json::Value::from(ids.iter().map(Uuid::to_string).collect::<Vec<_>>()).to_string()
}

/// A memory: [`MEMORY_COLUMNS`] or [`MEMORY_FIELDS`].
pub(super) struct MemoryRow(pub Memory);

impl FromRow<'_, SqliteRow> for MemoryRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let id: &str = row.try_get("id")?;
        Ok(MemoryRow(Memory {
            id: Uuid::parse_str(id).map_err(|e| corrupt(format!("id '{id}': {e}")))?,
            user_id: row.try_get("user_id")?,
            content: row.try_get("content")?,
            tags: tags_from_json(json_column(row, "tags")?)?,
            metadata: metadata_from_json(json_column(row, "metadata")?)?,
            created_at: time_column(row, "created_at")?,
            updated_at: time_column(row, "updated_at")?,
            expires_at: optional_time_column(row, "expires_at")?,
        }))
    }
}

/// A memory for the in-process search index: `id, content, content_hash, tags, created_at,
/// expires_at`.
pub(super) struct DocumentRow(pub SearchDocument);

impl FromRow<'_, SqliteRow> for DocumentRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let id: &str = row.try_get("id")?;
        Ok(DocumentRow(SearchDocument {
            id: Uuid::parse_str(id).map_err(|e| corrupt(format!("id '{id}': {e}")))?,
            content: row.try_get("content")?,
            content_hash: row.try_get("content_hash")?,
            tags: tags_from_json(json_column(row, "tags")?)?,
            created_at: time_column(row, "created_at")?,
            expires_at: optional_time_column(row, "expires_at")?,
        }))
    }
}

/// A search hit: [`MEMORY_COLUMNS`] and `score`.
pub(super) struct ScoredRow(pub ScoredMemory);

impl FromRow<'_, SqliteRow> for ScoredRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        Ok(ScoredRow(ScoredMemory {
            memory: MemoryRow::from_row(row)?.0,
            score: row.try_get("score")?,
        }))
    }
}

/// One `memory_history` row: `event, content, user_id, actor_token, at`.
pub(super) struct HistoryRow(pub HistoryEvent);

impl FromRow<'_, SqliteRow> for HistoryRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        Ok(HistoryRow(HistoryEvent {
            event: history_kind(row.try_get("event")?)?,
            content: row.try_get("content")?,
            actor: row.try_get("user_id")?,
            actor_token: row.try_get("actor_token")?,
            at: time_column(row, "at")?,
        }))
    }
}

/// A bookkeeping row: `version, checksum, applied_at`.
pub(super) struct AppliedRow(pub AppliedMigration);

impl FromRow<'_, SqliteRow> for AppliedRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        Ok(AppliedRow(AppliedMigration {
            version: row.try_get("version")?,
            checksum: row.try_get("checksum")?,
            applied_at: time_column(row, "applied_at")?,
        }))
    }
}

/// A token: [`TOKEN_COLUMNS`].
pub(super) struct TokenRow(pub TokenRecord);

impl FromRow<'_, SqliteRow> for TokenRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        Ok(TokenRow(TokenRecord {
            id: row.try_get("id")?,
            public_id: row.try_get("public_id")?,
            token_prefix: row.try_get("token_prefix")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            created_at: time_column(row, "created_at")?,
            expires_at: optional_time_column(row, "expires_at")?,
            is_enabled: row.try_get("is_enabled")?,
            last_used_at: optional_time_column(row, "last_used_at")?,
            created_by: row.try_get("created_by")?,
            permissions: permissions_from_json(&json_column(row, "permissions")?)?,
        }))
    }
}

/// An audit row: `id, timestamp, user_id, event_type, token_prefix, error_message`.
pub(super) struct AuditRow(pub AuditRecord);

impl FromRow<'_, SqliteRow> for AuditRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        Ok(AuditRow(AuditRecord {
            id: row.try_get("id")?,
            entry: AuditEntry {
                at: time_column(row, "timestamp")?,
                user_id: row.try_get("user_id")?,
                event: audit_event(row.try_get("event_type")?)?,
                token_prefix: row.try_get("token_prefix")?,
                message: row.try_get("error_message")?,
            },
        }))
    }
}

/// Authentication counts: `successes, failures, last_success`.
pub(super) struct StatsRow(pub AuthStats);

impl FromRow<'_, SqliteRow> for StatsRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let successes: i64 = row.try_get("successes")?;
        let failures: i64 = row.try_get("failures")?;
        Ok(StatsRow(AuthStats {
            successes: successes as u64,
            failures: failures as u64,
            last_success: optional_time_column(row, "last_success")?,
        }))
    }
}
