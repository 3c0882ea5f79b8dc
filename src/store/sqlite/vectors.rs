//! The `memory_vectors` SQL of the embedded SQLite file (see [`crate::store::vectors`]).

use sqlx::Row;
use sqlx::sqlite::SqlitePool;
use uuid::Uuid;

use super::SqliteStore;
use super::rows::{MEMORY_COLUMNS, MemoryRow, NOT_EXPIRED, ids_json};
use crate::memory::{Memory, NewMemory, NewVector, Scope};
use crate::store::{
    StoreError, StoredVector, Unembedded, UnembeddedFilter, VectorRecord, VectorStamp, corrupt,
};

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::from(corrupt(format!("memory id '{text}': {e}"))))
}

pub(super) async fn put(
    store: &SqliteStore,
    record: &VectorRecord<'_>,
) -> Result<bool, StoreError> {
    let (mut tx, interrupt) = store.write_tx().await?;
    let id = record.memory_id.to_string();
    sqlx::query("DELETE FROM memory_vectors WHERE memory_id = ?")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let stored = sqlx::query(
        "INSERT INTO memory_vectors (memory_id, scope_user, project_id, model, content_hash, vector)
         SELECT id, scope_user, project_id, ?, content_hash, ? FROM memories WHERE id = ? AND content_hash = ?",
    )
    .bind(record.model)
    .bind(record.vector)
    .bind(&id)
    .bind(record.content_hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    interrupt.done();
    Ok(stored == 1)
}

/// The vector of a memory being inserted, in the insert's transaction.
pub(super) async fn insert(
    tx: &mut sqlx::SqliteConnection,
    scope: &Scope,
    memory: &NewMemory,
    vector: &NewVector,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO memory_vectors (memory_id, scope_user, project_id, model, content_hash, vector)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(memory.id.to_string())
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(&vector.model)
    .bind(&memory.content_hash)
    .bind(&vector.vector)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn stamp(
    pool: &SqlitePool,
    scope: &Scope,
    model: &str,
) -> Result<VectorStamp, StoreError> {
    let row = sqlx::query(
        "SELECT count(*), coalesce(max(seq), 0) FROM memory_vectors
         WHERE scope_user = ? AND project_id = ? AND model = ?",
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

pub(super) async fn changes(pool: &SqlitePool, scope: &Scope) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT vector_changes FROM memory_scope_counts WHERE scope_user = ? AND project_id = ?",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or(0, |r| r.0))
}

pub(super) async fn of_scope(
    pool: &SqlitePool,
    scope: &Scope,
    model: &str,
) -> Result<Vec<StoredVector>, StoreError> {
    let rows = sqlx::query(
        "SELECT memory_id, vector FROM memory_vectors
         WHERE scope_user = ? AND project_id = ? AND model = ?",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(model)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredVector {
                memory_id: parse_id(row.try_get(0)?)?,
                vector: row.try_get(1)?,
            })
        })
        .collect()
}

/// `memories m` rows without a vector of the model bound first, and in the project bound next
/// when `scoped`.
fn lacking(scoped: bool) -> String {
    format!(
        "FROM memories m WHERE NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.memory_id = m.id AND v.model = ?){}",
        if scoped { " AND m.project_id = ?" } else { "" }
    )
}

pub(super) async fn unembedded(
    pool: &SqlitePool,
    filter: &UnembeddedFilter<'_>,
) -> Result<Vec<Unembedded>, StoreError> {
    let sql = format!(
        "SELECT m.id, m.content, m.content_hash {} AND m.id > ? ORDER BY m.id LIMIT ?",
        lacking(filter.project.is_some())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(filter.model);
    if let Some(project) = filter.project {
        query = query.bind(project);
    }
    let rows = query
        .bind(filter.after.map(|id| id.to_string()).unwrap_or_default())
        .bind(i64::from(filter.limit))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Unembedded {
                memory_id: parse_id(row.try_get(0)?)?,
                content: row.try_get(1)?,
                content_hash: row.try_get(2)?,
            })
        })
        .collect()
}

pub(super) async fn count_unembedded(
    pool: &SqlitePool,
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
            sqlx::query_scalar("SELECT count(*) FROM memories WHERE project_id = ?")
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

/// Memories of a scope by id (`?` scope user, project, ids as JSON). The scope columns are
/// written `+m.scope_user` so that they cannot pick an index: left to itself, SQLite walks the
/// whole scope through its index and tests each id, 30 ms at 10,000 memories, where looking up
/// each id takes microseconds.
pub(super) fn by_ids_sql() -> String {
    format!(
        "SELECT {MEMORY_COLUMNS} FROM memories m
         WHERE {NOT_EXPIRED} AND +m.scope_user = ? AND +m.project_id = ? AND m.id IN (SELECT value FROM json_each(?))"
    )
}

pub(super) async fn memories_by_ids(
    pool: &SqlitePool,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<Memory>, StoreError> {
    let rows: Vec<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(by_ids_sql()))
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(ids_json(ids))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
