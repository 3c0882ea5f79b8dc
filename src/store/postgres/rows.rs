//! Row mapping for PostgreSQL, in one place: each wrapper reads one kind of row with
//! [`sqlx::FromRow`] (as atuin's `wrappers.rs` does), so queries say
//! `query_as::<_, MemoryRow>` and never pick columns apart themselves. A value this binary
//! would not have written reads back as `StoreError::Corrupt`.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};

use crate::memory::{HistoryEvent, Memory, ScoredMemory};
use crate::store::migrations::AppliedMigration;
use crate::store::{
    AuditEntry, AuditRecord, AuthStats, TokenRecord, audit_event, history_kind, metadata_from_json,
    permissions_from_json, tags_from_json,
};

/// The columns [`MemoryRow`] reads.
pub(super) const MEMORY_COLUMNS: &str =
    "id, user_id, content, tags, metadata, created_at, updated_at, expires_at";

/// True for a row that has not expired (an expired memory behaves as deleted until it is
/// purged).
pub(super) const NOT_EXPIRED: &str = "(expires_at IS NULL OR expires_at > now())";

/// The columns [`TokenRow`] reads.
pub(super) const TOKEN_COLUMNS: &str = "id, public_id, token_prefix, user_id, name, email, created_at, expires_at, is_enabled, last_used_at, created_by, permissions";

/// A memory: [`MEMORY_COLUMNS`].
pub(super) struct MemoryRow(pub Memory);

impl FromRow<'_, PgRow> for MemoryRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(MemoryRow(Memory {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            content: row.try_get("content")?,
            tags: tags_from_json(row.try_get("tags")?)?,
            metadata: metadata_from_json(row.try_get("metadata")?)?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }
}

/// A search hit: [`MEMORY_COLUMNS`] and `score`.
pub(super) struct ScoredRow(pub ScoredMemory);

impl FromRow<'_, PgRow> for ScoredRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(ScoredRow(ScoredMemory {
            memory: MemoryRow::from_row(row)?.0,
            score: row.try_get("score")?,
        }))
    }
}

/// One `memory_history` row: `event, content, user_id, actor_token, at`.
pub(super) struct HistoryRow(pub HistoryEvent);

impl FromRow<'_, PgRow> for HistoryRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(HistoryRow(HistoryEvent {
            event: history_kind(row.try_get("event")?)?,
            content: row.try_get("content")?,
            actor: row.try_get("user_id")?,
            actor_token: row.try_get("actor_token")?,
            at: row.try_get("at")?,
        }))
    }
}

/// A bookkeeping row: `version, checksum, applied_at`.
pub(super) struct AppliedRow(pub AppliedMigration);

impl FromRow<'_, PgRow> for AppliedRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(AppliedRow(AppliedMigration {
            version: row.try_get("version")?,
            checksum: row.try_get("checksum")?,
            applied_at: row.try_get("applied_at")?,
        }))
    }
}

/// A token: [`TOKEN_COLUMNS`].
pub(super) struct TokenRow(pub TokenRecord);

impl FromRow<'_, PgRow> for TokenRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(TokenRow(TokenRecord {
            id: row.try_get("id")?,
            public_id: row.try_get("public_id")?,
            token_prefix: row.try_get("token_prefix")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            is_enabled: row.try_get("is_enabled")?,
            last_used_at: row.try_get("last_used_at")?,
            created_by: row.try_get("created_by")?,
            permissions: permissions_from_json(&row.try_get("permissions")?)?,
        }))
    }
}

/// An audit row: `id, "timestamp", user_id, event_type, token_prefix, error_message`.
pub(super) struct AuditRow(pub AuditRecord);

impl FromRow<'_, PgRow> for AuditRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(AuditRow(AuditRecord {
            id: row.try_get("id")?,
            entry: AuditEntry {
                at: row.try_get("timestamp")?,
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

impl FromRow<'_, PgRow> for StatsRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        let successes: i64 = row.try_get("successes")?;
        let failures: i64 = row.try_get("failures")?;
        Ok(StatsRow(AuthStats {
            successes: successes as u64,
            failures: failures as u64,
            last_success: row.try_get("last_success")?,
        }))
    }
}
