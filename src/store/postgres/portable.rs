//! Export pages and imports on PostgreSQL (see [`crate::store::portable`]).

use std::collections::HashMap;

use sqlx::{FromRow, PgPool, Row};
use uuid::Uuid;

use super::rows::{HistoryRow, MEMORY_COLUMNS, MemoryRow, NOT_EXPIRED};
use super::{lock_scope, purge_expired_rows};
use crate::memory::{HistoryEvent, content_hash};
use crate::store::{
    ExportCursor, ExportFilter, ImportCommit, ImportOutcome, PortableMemory, StoreError,
};

pub(super) async fn export_page(
    pool: &PgPool,
    filter: &ExportFilter,
    after: ExportCursor,
    limit: u32,
) -> Result<Vec<PortableMemory>, StoreError> {
    let sql = format!(
        "SELECT scope_user, project_id, {MEMORY_COLUMNS} FROM memories
         WHERE ($1::text IS NULL OR scope_user = $1) AND ($2::text IS NULL OR project_id = $2)
           AND ($3::uuid IS NULL OR id > $3) AND {NOT_EXPIRED}
         ORDER BY id LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(filter.owner.as_deref())
        .bind(filter.project.as_deref())
        .bind(after)
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
         WHERE memory_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let mut by_id: HashMap<Uuid, Vec<HistoryEvent>> = HashMap::new();
    for row in &history {
        let id: Uuid = row.try_get("memory_id")?;
        by_id
            .entry(id)
            .or_default()
            .push(HistoryRow::from_row(row)?.0);
    }
    for item in &mut page {
        item.history = by_id.remove(&item.memory.id).unwrap_or_default();
    }
    Ok(page)
}

pub(super) async fn import(
    pool: &PgPool,
    records: &[PortableMemory],
    scope_limit: u64,
    commit: ImportCommit,
) -> Result<Vec<ImportOutcome>, StoreError> {
    let mut tx = pool.begin().await?;
    let now = crate::memory::now();
    let mut seen = std::collections::HashSet::new();
    for record in records {
        let scope = record.scope();
        if seen.insert((record.owner.clone(), record.project_id.clone())) {
            lock_scope(&mut tx, &scope).await?;
            purge_expired_rows(&mut *tx, &scope, now).await?;
        }
    }
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        let memory = &record.memory;
        let hash = content_hash(&memory.content);
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM memories WHERE id = $1) AS by_id,
                    EXISTS (SELECT 1 FROM memories WHERE scope_user = $2 AND project_id = $3 AND content_hash = $4) AS by_content,
                    (SELECT memories FROM memory_scope_counts WHERE scope_user = $2 AND project_id = $3) AS count",
        )
        .bind(memory.id)
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
        let tags = serde_json::json!(memory.tags);
        let metadata = serde_json::Value::Object(memory.metadata.clone());
        sqlx::query(
            "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, tags, metadata, created_at, updated_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(memory.id)
        .bind(&memory.user_id)
        .bind(&record.owner)
        .bind(&record.project_id)
        .bind(&memory.content)
        .bind(&hash)
        .bind(&tags)
        .bind(&metadata)
        .bind(memory.created_at)
        .bind(memory.updated_at)
        .bind(memory.expires_at)
        .execute(&mut *tx)
        .await?;
        let history = record.history_or_add();
        sqlx::query(
            "INSERT INTO memory_history (memory_id, user_id, scope_user, project_id, event, content, tags, metadata, actor_token, at)
             SELECT $1, h.actor, $2, $3, h.event, h.content, $4, $5, h.token, h.at
             FROM UNNEST($6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
                  WITH ORDINALITY AS h(actor, event, content, token, at, n)
             ORDER BY h.n",
        )
        .bind(memory.id)
        .bind(&record.owner)
        .bind(&record.project_id)
        .bind(&tags)
        .bind(&metadata)
        .bind(history.iter().map(|e| e.actor.clone()).collect::<Vec<_>>())
        .bind(history.iter().map(|e| e.event.as_str()).collect::<Vec<_>>())
        .bind(history.iter().map(|e| e.content.clone()).collect::<Vec<_>>())
        .bind(history.iter().map(|e| e.actor_token.clone()).collect::<Vec<_>>())
        .bind(history.iter().map(|e| e.at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        outcomes.push(ImportOutcome::Added);
    }
    if commit.commits(&outcomes) {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(outcomes)
}
