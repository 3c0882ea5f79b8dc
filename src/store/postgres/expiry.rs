//! Expiry on PostgreSQL: purging the memories of a scope whose time has come (with their DELETE
//! history events) and counting those due soon. Reads never return an expired memory whether or
//! not it was purged yet (the NOT_EXPIRED filter of every read).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;

use super::cancel::Running;
use super::{bind_actor, with_history};
use crate::memory::{HistoryKind, Scope};
use crate::store::{StoreError, expiry_actor};

/// Purges the scope's memories expired at or before `now`; returns how many went.
pub(super) async fn purge_expired(
    pool: &PgPool,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    // A read first: the common case (nothing expired) takes no lock that a writer holding
    // the table would make it wait on.
    let due: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM memories WHERE scope_user = $1 AND project_id = $2 AND expires_at <= $3)",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(now)
    .fetch_one(pool)
    .await?;
    if !due {
        return Ok(0);
    }
    // Through the cancel guard like every other write: a cancelled call stops waiting.
    let mut running = Running::start(pool).await?;
    let purged = purge_expired_rows(running.conn(), scope, now).await;
    running.done();
    purged
}

/// How many memories of the scope expire after `from` and at or before `until`.
pub(super) async fn count_expiring(
    pool: &PgPool,
    scope: &Scope,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memories
         WHERE scope_user = $1 AND project_id = $2 AND expires_at > $3 AND expires_at <= $4",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(from)
    .bind(until)
    .fetch_one(pool)
    .await?;
    Ok(count as u64)
}

/// Deletes the scope's memories that expired at or before `now`, with their DELETE history
/// events, in one statement.
pub(super) async fn purge_expired_rows<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let sql = with_history(
        "DELETE FROM memories WHERE scope_user = $4 AND project_id = $5 AND expires_at <= $3",
        HistoryKind::Delete,
        "count(*)",
    );
    let actor = expiry_actor();
    let (purged,) = bind_actor::<(i64,)>(sql, &actor, now)
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .fetch_one(executor)
        .await?;
    Ok(purged as u64)
}
