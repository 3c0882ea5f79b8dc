//! Export pages and imports on PostgreSQL (see [`crate::store::portable`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

use super::expiry::purge_expired_rows;
use super::lock_scope;
use super::rows::{HistoryRow, MEMORY_COLUMNS, MemoryRow, NOT_EXPIRED};
use crate::memory::search_text::index_extra;
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

/// Records checked and written per round of statements.
const IMPORT_CHUNK: usize = 1000;

/// A scope as a key: (owner, project).
type ScopeKey = (String, String);

pub(super) async fn import(
    pool: &PgPool,
    records: &[PortableMemory],
    scope_limit: u64,
    commit: ImportCommit,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<Vec<ImportOutcome>, StoreError> {
    let mut tx = pool.begin().await?;
    let now = crate::memory::now();
    // Each touched scope: locked, purged of expired memories, and its count read once; the
    // counts then follow this import's inserts.
    let mut counts: HashMap<ScopeKey, u64> = HashMap::new();
    for record in records {
        let key = (record.owner.clone(), record.project_id.clone());
        if counts.contains_key(&key) {
            continue;
        }
        let scope = record.scope();
        lock_scope(&mut tx, &scope).await?;
        purge_expired_rows(&mut *tx, &scope, now).await?;
        let count = super::scope_count(&mut *tx, &scope).await?;
        counts.insert(key, count);
    }
    let mut outcomes = Vec::with_capacity(records.len());
    // Ids and (scope, content) stored so far, by this import or before it.
    let mut seen_ids: HashSet<Uuid> = HashSet::new();
    let mut seen_contents: HashSet<(String, String, String)> = HashSet::new();
    for chunk in records.chunks(IMPORT_CHUNK) {
        let hashes: Vec<String> = chunk
            .iter()
            .map(|r| content_hash(&r.memory.content))
            .collect();
        let ids: Vec<Uuid> = chunk.iter().map(|r| r.memory.id).collect();
        let found: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM memories WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
        seen_ids.extend(found);
        // One probe of the unique (scope, content hash) index per scope in the chunk (a join
        // on the three columns let the planner scan the table, slower with every chunk).
        let mut by_scope: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
        for (record, hash) in chunk.iter().zip(&hashes) {
            by_scope
                .entry((record.owner.as_str(), record.project_id.as_str()))
                .or_default()
                .push(hash.as_str());
        }
        let mut found = Vec::new();
        for ((owner, project), scope_hashes) in by_scope {
            let hashes: Vec<String> = sqlx::query_scalar(
                "SELECT content_hash FROM memories
                 WHERE scope_user = $1 AND project_id = $2 AND content_hash = ANY($3)",
            )
            .bind(owner)
            .bind(project)
            .bind(&scope_hashes)
            .fetch_all(&mut *tx)
            .await?;
            found.extend(
                hashes
                    .into_iter()
                    .map(|h| (owner.to_owned(), project.to_owned(), h)),
            );
        }
        seen_contents.extend(found);
        let mut batch = Batch::default();
        for (record, hash) in chunk.iter().zip(hashes) {
            let content_key = (record.owner.clone(), record.project_id.clone(), hash);
            if seen_ids.contains(&record.memory.id) || seen_contents.contains(&content_key) {
                outcomes.push(ImportOutcome::Unchanged);
                continue;
            }
            let count = counts
                .entry((record.owner.clone(), record.project_id.clone()))
                .or_default();
            if *count >= scope_limit {
                outcomes.push(ImportOutcome::ScopeFull { count: *count });
                continue;
            }
            *count += 1;
            seen_ids.insert(record.memory.id);
            batch.push(record, &content_key.2);
            seen_contents.insert(content_key);
            outcomes.push(ImportOutcome::Added);
        }
        batch.write(&mut tx).await?;
        progress(outcomes.len());
    }
    if commit.commits(&outcomes) {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(outcomes)
}

/// Memories and history rows to insert, as the columns `UNNEST` reads.
#[derive(Default)]
struct Batch {
    ids: Vec<Uuid>,
    authors: Vec<String>,
    owners: Vec<String>,
    projects: Vec<String>,
    contents: Vec<String>,
    hashes: Vec<String>,
    tags: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    created: Vec<DateTime<Utc>>,
    updated: Vec<DateTime<Utc>>,
    expires: Vec<Option<DateTime<Utc>>>,
    extras: Vec<String>,
    history: HistoryColumns,
}

#[derive(Default)]
struct HistoryColumns {
    memory_ids: Vec<Uuid>,
    actors: Vec<String>,
    owners: Vec<String>,
    projects: Vec<String>,
    events: Vec<&'static str>,
    contents: Vec<String>,
    tags: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    tokens: Vec<Option<String>>,
    at: Vec<DateTime<Utc>>,
}

impl Batch {
    fn push(&mut self, record: &PortableMemory, hash: &str) {
        let m = &record.memory;
        let tags = serde_json::json!(m.tags);
        let metadata = serde_json::Value::Object(m.metadata.clone());
        for event in record.history_or_add() {
            let h = &mut self.history;
            h.memory_ids.push(m.id);
            h.actors.push(event.actor);
            h.owners.push(record.owner.clone());
            h.projects.push(record.project_id.clone());
            h.events.push(event.event.as_str());
            h.contents.push(event.content);
            h.tags.push(tags.clone());
            h.metadata.push(metadata.clone());
            h.tokens.push(event.actor_token);
            h.at.push(event.at);
        }
        self.ids.push(m.id);
        self.authors.push(m.user_id.clone());
        self.owners.push(record.owner.clone());
        self.projects.push(record.project_id.clone());
        self.contents.push(m.content.clone());
        self.hashes.push(hash.to_owned());
        self.tags.push(tags);
        self.metadata.push(metadata);
        self.created.push(m.created_at);
        self.updated.push(m.updated_at);
        self.expires.push(m.expires_at);
        self.extras.push(index_extra(&m.content));
    }

    /// Two statements: the memories, then their history in order.
    async fn write(self, tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, tags, metadata, created_at, updated_at, expires_at, search_extra)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                  $7::jsonb[], $8::jsonb[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[],
                                  $12::text[])",
        )
        .bind(&self.ids)
        .bind(&self.authors)
        .bind(&self.owners)
        .bind(&self.projects)
        .bind(&self.contents)
        .bind(&self.hashes)
        .bind(&self.tags)
        .bind(&self.metadata)
        .bind(&self.created)
        .bind(&self.updated)
        .bind(&self.expires)
        .bind(&self.extras)
        .execute(&mut **tx)
        .await?;
        let h = self.history;
        sqlx::query(
            "INSERT INTO memory_history (memory_id, user_id, scope_user, project_id, event, content, tags, metadata, actor_token, at)
             SELECT memory_id, actor, owner, project, event, content, tags, metadata, token, at
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::jsonb[], $8::jsonb[], $9::text[], $10::timestamptz[])
                  WITH ORDINALITY AS h(memory_id, actor, owner, project, event, content, tags, metadata, token, at, n)
             ORDER BY n",
        )
        .bind(&h.memory_ids)
        .bind(&h.actors)
        .bind(&h.owners)
        .bind(&h.projects)
        .bind(&h.events)
        .bind(&h.contents)
        .bind(&h.tags)
        .bind(&h.metadata)
        .bind(&h.tokens)
        .bind(&h.at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
