//! A scope's stamp and its memories for the in-process search index, on the embedded SQLite
//! file (see [`crate::store::documents`]).

use sqlx::sqlite::{SqliteArguments, SqlitePool};
use sqlx::{Arguments, Row};

use super::rows::DocumentRow;
use crate::memory::Scope;
use crate::store::{ScopeStamp, SearchDocument, StoreError};

/// The scope's stamp: one primary-key read of `memory_scope_counts` (zeros for a scope that
/// never held a memory).
pub(super) const STAMP_SQL: &str =
    "SELECT memories, changes FROM memory_scope_counts WHERE scope_user = ? AND project_id = ?";

/// Every memory of the scope, through the scope's listing index.
pub(super) const DOCUMENTS_SQL: &str =
    "SELECT id, content, content_hash, tags, created_at, expires_at
     FROM memories WHERE scope_user = ? AND project_id = ?";

pub(super) async fn stamp(pool: &SqlitePool, scope: &Scope) -> Result<ScopeStamp, StoreError> {
    let row = sqlx::query(STAMP_SQL)
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => ScopeStamp {
            memories: row.try_get(0)?,
            changes: row.try_get(1)?,
        },
        None => ScopeStamp::default(),
    })
}

pub(super) async fn of_scope(
    pool: &SqlitePool,
    scope: &Scope,
) -> Result<Vec<SearchDocument>, StoreError> {
    let rows: Vec<DocumentRow> = sqlx::query_as(DOCUMENTS_SQL)
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub(super) async fn explain(pool: &SqlitePool, scope: &Scope) -> Result<String, StoreError> {
    let mut plans = Vec::new();
    for sql in [STAMP_SQL, DOCUMENTS_SQL] {
        let mut args = SqliteArguments::default();
        let encode = |e| StoreError::Query(sqlx::Error::Encode(e));
        args.add(scope.owner_key()).map_err(encode)?;
        args.add(scope.project_id.clone()).map_err(encode)?;
        plans.push(
            super::search::plan(
                pool,
                sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")),
                args,
            )
            .await?,
        );
    }
    Ok(plans.join("\n"))
}
