//! The search statement on SQLite, built once for running it and for showing its plan.
//! bm25 is negative, lower is better: -rank/(1-rank) maps it to 0..1 like PostgreSQL's
//! normalized rank; each literal fragment found adds a share of 0.5.

use sqlx::Arguments;
use sqlx::sqlite::SqliteArguments;

use super::HAS_ALL_TAGS;
use super::rows::{MEMORY_COLUMNS, NOT_EXPIRED, tags_json};
use crate::memory::Scope;
use crate::store::{SearchTerms, StoreError};

/// The SQL of a search and its bound values: the scope, the terms, the tags every result
/// must have, and at most `limit` rows.
///
/// Errors: [`StoreError::Query`] when a value cannot be encoded (not expected).
pub(super) fn statement(
    scope: &Scope,
    terms: &SearchTerms,
    tags: &[String],
    limit: u32,
) -> Result<(String, SqliteArguments), StoreError> {
    let mut args = SqliteArguments::default();
    let encode = |e| StoreError::Query(sqlx::Error::Encode(e));
    let sql = if terms.fragments.is_empty() {
        // Plain words only: the full-text index finds the rows, the scope filters them.
        // CROSS JOIN fixes that order (SQLite never reorders it): left to itself, the planner
        // may walk the whole scope and probe the matches instead, 25× slower at 10k memories.
        args.add(terms.fts5_query()).map_err(encode)?;
        format!(
            "WITH fts AS MATERIALIZED (
                 SELECT rowid AS seq, bm25(memories_fts) AS rank FROM memories_fts WHERE memories_fts MATCH ?
             )
             SELECT {MEMORY_COLUMNS}, (-f.rank) / (1.0 - f.rank) AS score
             FROM fts f CROSS JOIN memories m ON m.seq = f.seq
             WHERE m.scope_user = ? AND m.project_id = ? AND {NOT_EXPIRED} AND {HAS_ALL_TAGS}
             ORDER BY score DESC, m.created_at DESC, m.id DESC
             LIMIT ?"
        )
    } else {
        // With punctuated fragments, each one found as a substring adds to the score; that
        // form scans the scope. Both CTEs are MATERIALIZED: left to itself, SQLite may fold the
        // full-text match into the join and run it again for every row of the scope, which
        // made a query such as `file-17.yaml` quadratic in the scope's size.
        let fts = if terms.words.is_empty() {
            "SELECT NULL AS seq, NULL AS rank WHERE 0"
        } else {
            args.add(terms.fts5_query()).map_err(encode)?;
            "SELECT rowid AS seq, bm25(memories_fts) AS rank FROM memories_fts WHERE memories_fts MATCH ?"
        };
        let patterns = serde_json::Value::from(terms.like_patterns()).to_string();
        args.add(patterns).map_err(encode)?;
        format!(
            "WITH fts AS MATERIALIZED ({fts}),
                  patterns AS MATERIALIZED (SELECT value AS pattern FROM json_each(?))
             SELECT {MEMORY_COLUMNS},
                    (CASE WHEN f.rank IS NULL THEN 0.0 ELSE (-f.rank) / (1.0 - f.rank) END
                     + 0.5 * (SELECT count(*) FROM patterns p WHERE m.content LIKE p.pattern ESCAPE '\\')
                           / MAX((SELECT count(*) FROM patterns), 1)) AS score
             FROM memories m LEFT JOIN fts f ON f.seq = m.seq
             WHERE m.scope_user = ? AND m.project_id = ? AND {NOT_EXPIRED}
               AND {HAS_ALL_TAGS}
               AND (f.seq IS NOT NULL OR EXISTS (SELECT 1 FROM patterns p WHERE m.content LIKE p.pattern ESCAPE '\\'))
             ORDER BY score DESC, m.created_at DESC, m.id DESC
             LIMIT ?"
        )
    };
    args.add(scope.owner_key()).map_err(encode)?;
    args.add(scope.project_id.clone()).map_err(encode)?;
    args.add(tags_json(tags)).map_err(encode)?;
    args.add(i64::from(limit)).map_err(encode)?;
    Ok((sql, args))
}

/// SQLite's `EXPLAIN QUERY PLAN` of [`statement`], one step a line.
pub(super) async fn explain(
    pool: &sqlx::SqlitePool,
    scope: &Scope,
    terms: &SearchTerms,
    tags: &[String],
    limit: u32,
) -> Result<String, StoreError> {
    let (sql, args) = statement(scope, terms, tags, limit)?;
    plan(
        pool,
        sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")),
        args,
    )
    .await
}

/// The detail column of an `EXPLAIN QUERY PLAN`, one step a line.
pub(super) async fn plan(
    pool: &sqlx::SqlitePool,
    sql: sqlx::AssertSqlSafe<String>,
    args: SqliteArguments,
) -> Result<String, StoreError> {
    let steps: Vec<(i64, i64, i64, String)> =
        sqlx::query_as_with(sql, args).fetch_all(pool).await?;
    Ok(steps
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect::<Vec<_>>()
        .join("\n"))
}
