//! Expiry on SQLite: purging the memories of a scope whose time has come (with their DELETE
//! history events) and counting those due soon. Reads never return an expired memory whether or
//! not it was purged yet (the NOT_EXPIRED filter of every read).

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqlitePool;

use super::SqliteStore;
use super::rows::time_to_text;
use crate::memory::{HistoryKind, Scope};
use crate::store::{StoreError, expiry_actor};
use sqlx::{Sqlite, Transaction};

/// Purges the scope's memories expired at or before `now`; returns how many went.
pub(super) async fn purge_expired(
    store: &SqliteStore,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    // A read first: the common case (nothing expired) takes no write lock.
    let due: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM memories WHERE scope_user = ? AND project_id = ? AND expires_at <= ?)",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(time_to_text(now))
    .fetch_one(&store.pool)
    .await?;
    if !due {
        return Ok(0);
    }
    let (mut tx, interrupt) = store.write_tx().await?;
    let purged = purge_expired_rows(&mut tx, scope, now).await?;
    tx.commit().await?;
    interrupt.done();
    Ok(purged)
}

/// How many memories of the scope expire after `from` and at or before `until`.
pub(super) async fn count_expiring(
    pool: &SqlitePool,
    scope: &Scope,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memories
         WHERE scope_user = ? AND project_id = ? AND expires_at > ? AND expires_at <= ?",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(time_to_text(from))
    .bind(time_to_text(until))
    .fetch_one(pool)
    .await?;
    Ok(count as u64)
}

/// Deletes the scope's memories that expired at or before `now`, with their DELETE history
/// events (recorded first, as `record_history` does).
pub(super) async fn purge_expired_rows(
    tx: &mut Transaction<'_, Sqlite>,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let now = time_to_text(now);
    let actor = expiry_actor();
    sqlx::query(
        "INSERT INTO memory_history (memory_id, user_id, scope_user, project_id, event, content, tags, metadata, actor_token, at)
         SELECT id, ?, scope_user, project_id, ?, content, tags, metadata, NULL, ?
         FROM memories WHERE scope_user = ? AND project_id = ? AND expires_at <= ?",
    )
    .bind(&actor.user_id)
    .bind(HistoryKind::Delete.as_str())
    .bind(&now)
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    let result = sqlx::query(
        "DELETE FROM memories WHERE scope_user = ? AND project_id = ? AND expires_at <= ?",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}
