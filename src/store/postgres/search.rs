//! The search statement on PostgreSQL, built once for running it and for showing its plan.
//! Plain words: the full-text rank (0..1, english stemming, prefix terms), found through the
//! scope + text GIN index. With punctuated fragments (identifiers, file names, versions) each
//! one found as a substring adds to the score; that form scans the scope.

use sqlx::Arguments;
use sqlx::postgres::PgArguments;

use super::rows::{MEMORY_COLUMNS, NOT_EXPIRED};
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
) -> Result<(String, PgArguments), StoreError> {
    let mut args = PgArguments::default();
    let encode = |e| StoreError::Query(sqlx::Error::Encode(e));
    args.add(scope.owner_key()).map_err(encode)?;
    args.add(scope.project_id.clone()).map_err(encode)?;
    args.add(terms.tsquery()).map_err(encode)?;
    let sql = if terms.fragments.is_empty() {
        format!(
            "SELECT {MEMORY_COLUMNS},
                    ts_rank_cd(search_vector, to_tsquery('english', $3), 32)::float8 AS score
             FROM memories
             WHERE scope_user = $1 AND project_id = $2 AND {NOT_EXPIRED}
               AND search_vector @@ to_tsquery('english', $3)
               AND ($4::jsonb = '[]'::jsonb OR tags @> $4)
             ORDER BY score DESC, created_at DESC, id DESC
             LIMIT $5"
        )
    } else {
        args.add(terms.like_patterns()).map_err(encode)?;
        format!(
            "WITH q AS (SELECT CASE WHEN $3 = '' THEN NULL ELSE to_tsquery('english', $3) END AS query)
             SELECT {MEMORY_COLUMNS},
                    (COALESCE(ts_rank_cd(search_vector, q.query, 32), 0)
                     + 0.5 * (SELECT count(*) FROM unnest($4::text[]) AS p(pattern) WHERE content ILIKE p.pattern)
                           / GREATEST(cardinality($4::text[]), 1))::float8 AS score
             FROM memories, q
             WHERE scope_user = $1 AND project_id = $2 AND {NOT_EXPIRED}
               AND ($5::jsonb = '[]'::jsonb OR tags @> $5)
               AND ((q.query IS NOT NULL AND search_vector @@ q.query) OR content ILIKE ANY($4::text[]))
             ORDER BY score DESC, created_at DESC, id DESC
             LIMIT $6"
        )
    };
    args.add(serde_json::json!(tags)).map_err(encode)?;
    args.add(i64::from(limit)).map_err(encode)?;
    Ok((sql, args))
}

/// PostgreSQL's `EXPLAIN` of [`statement`], one plan line a line.
pub(super) async fn explain(
    pool: &sqlx::PgPool,
    scope: &Scope,
    terms: &SearchTerms,
    tags: &[String],
    limit: u32,
) -> Result<String, StoreError> {
    let (sql, args) = statement(scope, terms, tags, limit)?;
    let lines: Vec<String> =
        sqlx::query_scalar_with(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")), args)
            .fetch_all(pool)
            .await?;
    Ok(lines.join("\n"))
}
