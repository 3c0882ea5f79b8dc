//! Export pages and imports on the embedded SQLite file (see [`crate::store::portable`]).

use std::collections::HashMap;

use sqlx::{FromRow, Row, SqlitePool};
use uuid::Uuid;

use super::expiry::purge_expired_rows;
use super::rows::{
    HistoryRow, MEMORY_COLUMNS, MemoryRow, NOT_EXPIRED, ids_json, metadata_json, tags_json,
    time_to_text,
};
use crate::memory::search_text::index_extra;
use crate::memory::{HistoryEvent, content_hash};
use crate::store::{
    ExportCursor, ExportFilter, ImportCommit, ImportOutcome, PortableMemory, StoreError,
};

pub(super) async fn export_page(
    pool: &SqlitePool,
    filter: &ExportFilter,
    after: ExportCursor,
    limit: u32,
) -> Result<Vec<PortableMemory>, StoreError> {
    let sql = format!(
        "SELECT m.scope_user, m.project_id, {MEMORY_COLUMNS} FROM memories m
         WHERE (?1 IS NULL OR m.scope_user = ?1) AND (?2 IS NULL OR m.project_id = ?2)
           AND (?3 IS NULL OR m.id > ?3) AND {NOT_EXPIRED}
         ORDER BY m.id LIMIT ?4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(filter.owner.as_deref())
        .bind(filter.project.as_deref())
        .bind(after.map(|id| id.to_string()))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    let mut page = Vec::with_capacity(rows.len());
    for row in &rows {
        page.push(PortableMemory {
            memory: MemoryRow::from_row(row)?.0,
            owner: row.try_get("scope_user")?,
            project_id: row.try_get("project_id")?,
            history: Vec::new(),
        });
    }
    let ids: Vec<Uuid> = page.iter().map(|p| p.memory.id).collect();
    let history = sqlx::query(
        "SELECT memory_id, event, content, user_id, actor_token, at FROM memory_history
         WHERE memory_id IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
    .bind(ids_json(&ids))
    .fetch_all(pool)
    .await?;
    let mut by_id: HashMap<String, Vec<HistoryEvent>> = HashMap::new();
    for row in &history {
        let id: String = row.try_get("memory_id")?;
        by_id
            .entry(id)
            .or_default()
            .push(HistoryRow::from_row(row)?.0);
    }
    for item in &mut page {
        item.history = by_id
            .remove(&item.memory.id.to_string())
            .unwrap_or_default();
    }
    Ok(page)
}

pub(super) async fn import(
    pool: &SqlitePool,
    records: &[PortableMemory],
    scope_limit: u64,
    commit: ImportCommit,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<Vec<ImportOutcome>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // One transaction of many rows: with the connection's small page cache (see
    // `SqliteStore::open`), its pages spill to the write-ahead log and every later read searches
    // there, which made 100,000 rows 40 times slower than 10,000. The cache is set back below.
    sqlx::query("PRAGMA cache_size = -65536")
        .execute(&mut *tx)
        .await?;
    let now = crate::memory::now();
    let mut seen = std::collections::HashSet::new();
    for record in records {
        if seen.insert((record.owner.clone(), record.project_id.clone())) {
            purge_expired_rows(&mut tx, &record.scope(), now).await?;
        }
    }
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        if !outcomes.is_empty() && outcomes.len() % 1000 == 0 {
            progress(outcomes.len());
        }
        let memory = &record.memory;
        let id = memory.id.to_string();
        let hash = content_hash(&memory.content);
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM memories WHERE id = ?1) AS by_id,
                    EXISTS (SELECT 1 FROM memories WHERE scope_user = ?2 AND project_id = ?3 AND content_hash = ?4) AS by_content,
                    (SELECT memories FROM memory_scope_counts WHERE scope_user = ?2 AND project_id = ?3) AS count",
        )
        .bind(&id)
        .bind(&record.owner)
        .bind(&record.project_id)
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<bool, _>("by_id")? || row.try_get::<bool, _>("by_content")? {
            outcomes.push(ImportOutcome::Unchanged);
            continue;
        }
        let count = row.try_get::<Option<i64>, _>("count")?.unwrap_or(0) as u64;
        if count >= scope_limit {
            outcomes.push(ImportOutcome::ScopeFull { count });
            continue;
        }
        let tags = tags_json(&memory.tags);
        let metadata = metadata_json(&memory.metadata);
        sqlx::query(
            "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, tags, metadata, created_at, updated_at, expires_at, search_extra)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&memory.user_id)
        .bind(&record.owner)
        .bind(&record.project_id)
        .bind(&memory.content)
        .bind(&hash)
        .bind(&tags)
        .bind(&metadata)
        .bind(time_to_text(memory.created_at))
        .bind(time_to_text(memory.updated_at))
        .bind(memory.expires_at.map(time_to_text))
        .bind(index_extra(&memory.content))
        .execute(&mut *tx)
        .await?;
        for event in record.history_or_add() {
            sqlx::query(
                "INSERT INTO memory_history (memory_id, user_id, scope_user, project_id, event, content, tags, metadata, actor_token, at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(&event.actor)
            .bind(&record.owner)
            .bind(&record.project_id)
            .bind(event.event.as_str())
            .bind(&event.content)
            .bind(&tags)
            .bind(&metadata)
            .bind(event.actor_token.as_deref())
            .bind(time_to_text(event.at))
            .execute(&mut *tx)
            .await?;
        }
        outcomes.push(ImportOutcome::Added);
    }
    // Not transactional: the pooled connection keeps its small cache from here on.
    sqlx::query("PRAGMA cache_size = -256")
        .execute(&mut *tx)
        .await?;
    if commit.commits(&outcomes) {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(outcomes)
}
