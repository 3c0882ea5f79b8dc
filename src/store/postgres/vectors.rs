//! The `memory_vectors` SQL of PostgreSQL (see [`crate::store::vectors`]).

use sqlx::Row;
use sqlx::postgres::PgPool;

use uuid::Uuid;

use super::rows::{MEMORY_COLUMNS, MemoryRow, NOT_EXPIRED};
use crate::memory::{Memory, Scope};
use crate::store::{
    StoreError, StoredVector, Unembedded, UnembeddedFilter, VectorRecord, VectorStamp,
};

/// One statement, so one round trip: an upsert when the memory still has the content the
/// vector was made from (`seq = DEFAULT` takes the next identity value, so the scope's stamp
/// moves), else the delete of any earlier vector. The two branches never touch the same row
/// in one statement: the delete runs only when there is nothing to insert.
pub(super) async fn put(pool: &PgPool, record: &VectorRecord<'_>) -> Result<bool, StoreError> {
    let stored = sqlx::query(
        "WITH source AS (
             SELECT id, scope_user, project_id, content_hash FROM memories
             WHERE id = $3 AND content_hash = $4
         ), stale AS (
             DELETE FROM memory_vectors
             WHERE memory_id = $3 AND NOT EXISTS (SELECT 1 FROM source)
         )
         INSERT INTO memory_vectors (memory_id, scope_user, project_id, model, content_hash, vector)
         SELECT id, scope_user, project_id, $1, content_hash, $2 FROM source
         ON CONFLICT (memory_id) DO UPDATE SET
             scope_user = EXCLUDED.scope_user, project_id = EXCLUDED.project_id,
             model = EXCLUDED.model, content_hash = EXCLUDED.content_hash,
             vector = EXCLUDED.vector, seq = DEFAULT",
    )
    .bind(record.model)
    .bind(record.vector)
    .bind(record.memory_id)
    .bind(record.content_hash)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(stored == 1)
}

/// The memory insert of `insert_memory` (a [`super::with_history`] statement whose `$4`, `$5`,
/// `$6` and `$8` are the id, scope user, project and content hash) with the new memory's vector
/// inserted by the same statement, from `$13` (model) and `$14` (vector): no round trip of its
/// own.
pub(super) fn with_vector_insert(sql: &str) -> String {
    sql.replacen(
        "WITH changed AS",
        "WITH vector AS (
             INSERT INTO memory_vectors (memory_id, scope_user, project_id, model, content_hash, vector)
             VALUES ($4, $5, $6, $13, $8, $14)
         ), changed AS",
        1,
    )
}

pub(super) async fn stamp(
    pool: &PgPool,
    scope: &Scope,
    model: &str,
) -> Result<VectorStamp, StoreError> {
    let row = sqlx::query(
        "SELECT count(*), coalesce(max(seq), 0)::bigint FROM memory_vectors
         WHERE scope_user = $1 AND project_id = $2 AND model = $3",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(model)
    .fetch_one(pool)
    .await?;
    Ok(VectorStamp {
        count: row.try_get(0)?,
        last_seq: row.try_get(1)?,
    })
}

pub(super) async fn changes(pool: &PgPool, scope: &Scope) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT vector_changes FROM memory_scope_counts WHERE scope_user = $1 AND project_id = $2",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or(0, |r| r.0))
}

pub(super) async fn of_scope(
    pool: &PgPool,
    scope: &Scope,
    model: &str,
) -> Result<Vec<StoredVector>, StoreError> {
    let rows = sqlx::query(
        "SELECT memory_id, vector FROM memory_vectors
         WHERE scope_user = $1 AND project_id = $2 AND model = $3",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(model)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredVector {
                memory_id: row.try_get(0)?,
                vector: row.try_get(1)?,
            })
        })
        .collect()
}

/// `memories m` rows without a vector of the model bound as $1, and in the project bound as $2
/// when `scoped`.
fn lacking(scoped: bool) -> String {
    format!(
        "FROM memories m WHERE NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.memory_id = m.id AND v.model = $1){}",
        if scoped { " AND m.project_id = $2" } else { "" }
    )
}

pub(super) async fn unembedded(
    pool: &PgPool,
    filter: &UnembeddedFilter<'_>,
) -> Result<Vec<Unembedded>, StoreError> {
    let next = if filter.project.is_some() { 3 } else { 2 };
    let sql = format!(
        "SELECT m.id, m.content, m.content_hash {} AND (${next}::uuid IS NULL OR m.id > ${next}::uuid) ORDER BY m.id LIMIT ${}",
        lacking(filter.project.is_some()),
        next + 1
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(filter.model);
    if let Some(project) = filter.project {
        query = query.bind(project);
    }
    let rows = query
        .bind(filter.after)
        .bind(i64::from(filter.limit))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Unembedded {
                memory_id: row.try_get(0)?,
                content: row.try_get(1)?,
                content_hash: row.try_get(2)?,
            })
        })
        .collect()
}

pub(super) async fn count_unembedded(
    pool: &PgPool,
    project: Option<&str>,
    model: &str,
) -> Result<(u64, u64), StoreError> {
    let sql = format!("SELECT count(*) {}", lacking(project.is_some()));
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(model);
    if let Some(project) = project {
        query = query.bind(project);
    }
    let missing: i64 = query.fetch_one(pool).await?;
    let total: i64 = match project {
        Some(project) => {
            sqlx::query_scalar("SELECT count(*) FROM memories WHERE project_id = $1")
                .bind(project)
                .fetch_one(pool)
                .await?
        }
        None => {
            sqlx::query_scalar("SELECT count(*) FROM memories")
                .fetch_one(pool)
                .await?
        }
    };
    Ok((missing as u64, total as u64))
}

/// Memories of a scope by id (`$1` scope user, `$2` project, `$3` ids).
pub(super) fn by_ids_sql() -> String {
    format!(
        "SELECT {MEMORY_COLUMNS} FROM memories m
         WHERE {NOT_EXPIRED} AND m.scope_user = $1 AND m.project_id = $2 AND m.id = ANY($3)"
    )
}

pub(super) async fn memories_by_ids(
    pool: &PgPool,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<Memory>, StoreError> {
    let rows: Vec<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(by_ids_sql()))
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
