//! A scope's stamp and its memories for the in-process search index, on PostgreSQL (see
//! [`crate::store::documents`]).

use sqlx::Row;
use sqlx::postgres::PgPool;

use crate::memory::Scope;
use crate::store::{ScopeStamp, SearchDocument, StoreError, tags_from_json};

/// The scope's stamp: one primary-key read of `memory_scope_counts` (zeros for a scope that
/// never held a memory).
pub(super) const STAMP_SQL: &str =
    "SELECT memories, changes FROM memory_scope_counts WHERE scope_user = $1 AND project_id = $2";

/// Every memory of the scope, through the scope's listing index.
pub(super) const DOCUMENTS_SQL: &str =
    "SELECT id, content, content_hash, tags, created_at, expires_at
     FROM memories WHERE scope_user = $1 AND project_id = $2";

pub(super) async fn stamp(pool: &PgPool, scope: &Scope) -> Result<ScopeStamp, StoreError> {
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
    pool: &PgPool,
    scope: &Scope,
) -> Result<Vec<SearchDocument>, StoreError> {
    let rows = sqlx::query(DOCUMENTS_SQL)
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(SearchDocument {
                id: row.try_get("id")?,
                content: row.try_get("content")?,
                content_hash: row.try_get("content_hash")?,
                tags: tags_from_json(row.try_get("tags")?)?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .collect()
}

pub(super) async fn explain(pool: &PgPool, scope: &Scope) -> Result<String, StoreError> {
    let mut plans = Vec::new();
    for sql in [STAMP_SQL, DOCUMENTS_SQL] {
        let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .fetch_all(pool)
            .await?;
        plans.push(lines.join("\n"));
    }
    Ok(plans.join("\n"))
}
