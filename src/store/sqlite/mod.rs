//! The embedded SQLite store: one file in the data directory, readable only by its owner,
//! in WAL mode so readers never wait for a writer. Writes run in `BEGIN IMMEDIATE`
//! transactions, which serializes them across processes and keeps dedup and the scope limit
//! exact. The token tables are in [`tokens`], the row mapping in [`rows`].

mod connection;
mod documents;
mod expiry;
mod portable;
mod rows;
mod schema;
mod search;
mod tokens;
mod vectors;

pub use self::connection::check_private;
use self::connection::{INTERRUPT_CHECK_OPS, Interrupt, create_private_file, still_usable};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{SqlSafeStr, Sqlite, Transaction};
use tracing::instrument;
use uuid::Uuid;

use self::rows::{
    HistoryRow, MEMORY_COLUMNS, MEMORY_FIELDS, MemoryRow, NOT_EXPIRED, ScoredRow, ids_json,
    metadata_json, tags_json, time_to_text,
};
use super::migrations::{AppliedMigration, SQLITE};
use super::{
    Backend, InsertOutcome, ListFilter, MemoryStore, Migration, SchemaStatus, SearchTerms,
    StoreError, StoredVector, Unembedded, UnembeddedFilter, UpdateOutcome, VectorRecord,
    VectorStamp,
};
use super::{ExportCursor, ExportFilter, ImportCommit, ImportOutcome, PortableMemory};
use super::{ScopeStamp, SearchDocument};
use crate::access::Principal;
use crate::memory::search_text::index_extra;
use crate::memory::{
    HistoryEvent, HistoryKind, Memory, MemoryChanges, NewMemory, Scope, ScoredMemory,
};

/// Memories and tokens in the embedded SQLite file (both traits, one pool).
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// A store for the file at `path`, created owner-only (with its directory) if missing;
    /// connections are opened lazily.
    ///
    /// Errors: [`StoreError::NotPrivate`] when the directory or the file belongs to another
    /// user or others can write to it; [`StoreError::CreateFile`] when the file or its
    /// directory cannot be created.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        check_private(path)?;
        create_private_file(path).map_err(|source| StoreError::CreateFile {
            path: path.to_owned(),
            source,
        })?;
        check_private(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // 256 KiB of page cache per connection instead of SQLite's default 2,000 KiB. Every
            // open client window pays for it, and a larger cache buys little here: the file
            // stays in the OS page cache, so a miss costs one read() of about a microsecond,
            // and in WAL mode a commit on one connection makes the other drop its whole cache
            // anyway. At 1 MiB, the two caches filled up with 10,000 memories in a scope and
            // were two thirds of the process's heap.
            .pragma("cache_size", "-256");
        // Two connections: a reader can run beside the writer (WAL), and each connection's page
        // cache costs memory in a process that every client window starts.
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(300))
            .after_release(|conn, _| Box::pin(async move { still_usable(conn).await }))
            .connect_lazy_with(options);
        Ok(SqliteStore {
            pool,
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection pool, for the token tables.
    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A connection whose statements stop when the returned guard is dropped unfinished.
    async fn armed(&self) -> Result<(PoolConnection<Sqlite>, Interrupt), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let flag = Arc::new(AtomicBool::new(false));
        let seen = flag.clone();
        conn.lock_handle()
            .await?
            .set_progress_handler(INTERRUPT_CHECK_OPS, move || !seen.load(Ordering::Relaxed));
        Ok((conn, Interrupt { flag, done: false }))
    }

    /// A write transaction (`BEGIN IMMEDIATE`) on an [`armed`](Self::armed) connection.
    async fn write_tx(&self) -> Result<(Transaction<'static, Sqlite>, Interrupt), StoreError> {
        let (conn, interrupt) = self.armed().await?;
        let tx = Transaction::begin(conn, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
        Ok((tx, interrupt))
    }

    async fn applied(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        schema::applied(&self.pool).await
    }
}

/// How many memories the scope holds, from the counter row the triggers keep (no row: none).
async fn scope_count<'c>(
    executor: impl sqlx::SqliteExecutor<'c>,
    scope: &Scope,
) -> Result<u64, StoreError> {
    let count: Option<i64> = sqlx::query_scalar(
        "SELECT memories FROM memory_scope_counts WHERE scope_user = ? AND project_id = ?",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .fetch_optional(executor)
    .await?;
    Ok(count.unwrap_or(0) as u64)
}

async fn find_by_hash(
    tx: &mut Transaction<'_, Sqlite>,
    scope: &Scope,
    hash: &str,
) -> Result<Option<Memory>, StoreError> {
    let sql = format!(
        "SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.scope_user = ? AND m.project_id = ? AND m.content_hash = ? AND {NOT_EXPIRED}"
    );
    let row: Option<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(hash)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.0))
}

/// Writes the `event` history rows of these memories of the scope (`ids`: a JSON array, see
/// [`ids_json`]) as they now stand in `memories`: an ADD or UPDATE is recorded after the change,
/// a DELETE before it. The one place SQLite writes history.
async fn record_history(
    tx: &mut Transaction<'_, Sqlite>,
    scope: &Scope,
    ids: &str,
    event: HistoryKind,
    actor: &Principal,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO memory_history (memory_id, user_id, scope_user, project_id, event, content, tags, metadata, actor_token, at)
         SELECT id, ?, scope_user, project_id, ?, content, tags, metadata, ?, ?
         FROM memories WHERE +scope_user = ? AND +project_id = ? AND id IN (SELECT value FROM json_each(?))",
    )
    .bind(&actor.user_id)
    .bind(event.as_str())
    .bind(actor.token_display_id.as_deref())
    .bind(time_to_text(at))
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .bind(ids)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True when the memory's tags include every tag of the JSON array bound at `?`.
const HAS_ALL_TAGS: &str = "NOT EXISTS (SELECT 1 FROM json_each(?) t WHERE t.value NOT IN (SELECT value FROM json_each(m.tags)))";

#[async_trait]
impl MemoryStore for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    #[instrument(skip_all)]
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        Ok(SchemaStatus::new(SQLITE, &self.applied().await?))
    }

    #[instrument(skip_all)]
    async fn migrate(&self) -> Result<Vec<&'static Migration>, StoreError> {
        schema::migrate(self).await
    }

    #[instrument(skip_all)]
    async fn insert_memory(
        &self,
        scope: &Scope,
        new: &NewMemory,
        actor: &Principal,
        scope_limit: u64,
    ) -> Result<InsertOutcome, StoreError> {
        let (mut tx, interrupt) = self.write_tx().await?;
        // Expired memories neither count against the limit nor make a duplicate.
        expiry::purge_expired_rows(&mut tx, scope, new.at).await?;
        if let Some(existing) = find_by_hash(&mut tx, scope, &new.content_hash).await? {
            tx.commit().await?;
            interrupt.done();
            return Ok(InsertOutcome::Duplicate(existing));
        }
        let count = scope_count(&mut *tx, scope).await?;
        if count >= scope_limit {
            return Ok(InsertOutcome::ScopeFull { count });
        }
        let memory = Memory {
            id: new.id,
            user_id: actor.user_id.clone(),
            content: new.content.clone(),
            tags: new.tags.clone(),
            metadata: new.metadata.clone(),
            created_at: new.at,
            updated_at: new.at,
            expires_at: new.expires_at,
        };
        sqlx::query(
            "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, tags, metadata, created_at, updated_at, search_extra, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(memory.id.to_string())
        .bind(&memory.user_id)
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(&memory.content)
        .bind(&new.content_hash)
        .bind(tags_json(&memory.tags))
        .bind(metadata_json(&memory.metadata))
        .bind(time_to_text(new.at))
        .bind(time_to_text(new.at))
        .bind(index_extra(&memory.content))
        .bind(new.expires_at.map(time_to_text))
        .execute(&mut *tx)
        .await?;
        let ids = ids_json(&[memory.id]);
        record_history(&mut tx, scope, &ids, HistoryKind::Add, actor, new.at).await?;
        if let Some(vector) = &new.vector {
            vectors::insert(&mut tx, scope, new, vector).await?;
        }
        tx.commit().await?;
        interrupt.done();
        Ok(InsertOutcome::Inserted(memory))
    }

    #[instrument(skip_all)]
    async fn get_memory(&self, scope: &Scope, id: Uuid) -> Result<Option<Memory>, StoreError> {
        let sql = format!(
            "SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.scope_user = ? AND m.project_id = ? AND m.id = ? AND {NOT_EXPIRED}"
        );
        let row: Option<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    #[instrument(skip_all)]
    async fn update_memory(
        &self,
        scope: &Scope,
        id: Uuid,
        changes: &MemoryChanges,
        at: DateTime<Utc>,
        actor: &Principal,
    ) -> Result<UpdateOutcome, StoreError> {
        let (mut tx, interrupt) = self.write_tx().await?;
        let sql = format!(
            "UPDATE memories AS m SET content = COALESCE(?, content), content_hash = COALESCE(?, content_hash),
                                 tags = COALESCE(?, tags), metadata = COALESCE(?, metadata),
                                 expires_at = CASE WHEN ? THEN ? ELSE expires_at END,
                                 updated_at = MAX(?, updated_at),
                                 search_extra = COALESCE(?, search_extra)
             WHERE scope_user = ? AND project_id = ? AND id = ? AND {NOT_EXPIRED}
             RETURNING {MEMORY_FIELDS}"
        );
        let (content, hash) = changes.content.as_ref().map(|(c, h)| (c, h)).unzip();
        let updated: Result<Option<MemoryRow>, _> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(content)
            .bind(hash)
            .bind(changes.tags.as_deref().map(tags_json))
            .bind(changes.metadata.as_ref().map(metadata_json))
            .bind(changes.expires_at.is_some())
            .bind(changes.expires_at.flatten().map(time_to_text))
            .bind(time_to_text(at))
            .bind(content.map(|c| index_extra(c)))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await;
        let memory = match updated {
            Ok(Some(MemoryRow(memory))) => memory,
            Ok(None) => return Ok(UpdateOutcome::NotFound),
            // The unique index on the scope's content hashes: another memory has this content.
            Err(error) if is_unique_violation(&error) => {
                let other = match hash {
                    Some(hash) => find_by_hash(&mut tx, scope, hash).await?,
                    None => None,
                };
                return other
                    .map(|m| UpdateOutcome::ContentTaken(m.id))
                    .ok_or(StoreError::Query(error));
            }
            Err(error) => return Err(error.into()),
        };
        let ids = ids_json(&[id]);
        record_history(&mut tx, scope, &ids, HistoryKind::Update, actor, at).await?;
        tx.commit().await?;
        interrupt.done();
        Ok(UpdateOutcome::Updated(memory))
    }

    #[instrument(skip_all)]
    async fn delete_memories(
        &self,
        scope: &Scope,
        ids: &[Uuid],
        actor: &Principal,
    ) -> Result<u64, StoreError> {
        let ids = ids_json(ids);
        let (mut tx, interrupt) = self.write_tx().await?;
        record_history(
            &mut tx,
            scope,
            &ids,
            HistoryKind::Delete,
            actor,
            crate::memory::now(),
        )
        .await?;
        let result = sqlx::query(
            // `+`: reach the rows by id, not by walking the scope (see `vectors::by_ids_sql`).
            "DELETE FROM memories WHERE +scope_user = ? AND +project_id = ? AND id IN (SELECT value FROM json_each(?))",
        )
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        interrupt.done();
        Ok(result.rows_affected())
    }

    #[instrument(skip_all)]
    async fn list_memories(
        &self,
        scope: &Scope,
        filter: &ListFilter<'_>,
    ) -> Result<Vec<Memory>, StoreError> {
        let sql = format!(
            "SELECT {MEMORY_COLUMNS} FROM memories m
             WHERE m.scope_user = ? AND m.project_id = ? AND {NOT_EXPIRED}
               AND {HAS_ALL_TAGS}
               AND (? IS NULL OR m.user_id = ?)
               AND (? IS NULL OR (m.created_at, m.id) < (?, ?))
             ORDER BY m.created_at DESC, m.id DESC
             LIMIT ?"
        );
        let after_time = filter.after.map(|c| time_to_text(c.created_at));
        let after_id = filter.after.map(|c| c.id.to_string());
        let rows: Vec<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(tags_json(filter.tags))
            .bind(filter.author)
            .bind(filter.author)
            .bind(after_time.as_deref())
            .bind(after_time.as_deref())
            .bind(after_id.as_deref())
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    #[instrument(skip_all)]
    async fn count_memories(
        &self,
        scope: &Scope,
        tags: &[String],
        author: Option<&str>,
    ) -> Result<u64, StoreError> {
        if tags.is_empty() && author.is_none() {
            return scope_count(&self.pool, scope).await;
        }
        let sql = format!(
            "SELECT count(*) FROM memories m
             WHERE m.scope_user = ? AND m.project_id = ? AND {NOT_EXPIRED} AND {HAS_ALL_TAGS} AND (? IS NULL OR m.user_id = ?)"
        );
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(tags_json(tags))
            .bind(author)
            .bind(author)
            .fetch_one(&self.pool)
            .await?;
        Ok(count as u64)
    }

    #[instrument(skip_all)]
    async fn search_memories(
        &self,
        scope: &Scope,
        terms: &SearchTerms,
        tags: &[String],
        limit: u32,
    ) -> Result<Vec<ScoredMemory>, StoreError> {
        let (sql, args) = search::statement(scope, terms, tags, limit)?;
        let (mut conn, interrupt) = self.armed().await?;
        let rows: Vec<ScoredRow> = sqlx::query_as_with(sqlx::AssertSqlSafe(sql), args)
            .fetch_all(&mut *conn)
            .await?;
        interrupt.done();
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    #[instrument(skip_all)]
    async fn explain_search(
        &self,
        scope: &Scope,
        terms: &SearchTerms,
        tags: &[String],
        limit: u32,
    ) -> Result<String, StoreError> {
        search::explain(&self.pool, scope, terms, tags, limit).await
    }

    #[instrument(skip_all)]
    async fn scope_stamp(&self, scope: &Scope) -> Result<ScopeStamp, StoreError> {
        documents::stamp(&self.pool, scope).await
    }

    #[instrument(skip_all)]
    async fn scope_documents(&self, scope: &Scope) -> Result<Vec<SearchDocument>, StoreError> {
        documents::of_scope(&self.pool, scope).await
    }

    #[instrument(skip_all)]
    async fn explain_scope_reads(&self, scope: &Scope) -> Result<String, StoreError> {
        documents::explain(&self.pool, scope).await
    }

    #[instrument(skip_all)]
    async fn purge_expired(&self, scope: &Scope, now: DateTime<Utc>) -> Result<u64, StoreError> {
        expiry::purge_expired(self, scope, now).await
    }

    #[instrument(skip_all)]
    async fn count_expiring(
        &self,
        scope: &Scope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        expiry::count_expiring(&self.pool, scope, from, until).await
    }

    #[instrument(skip_all)]
    async fn export_page(
        &self,
        filter: &ExportFilter,
        after: ExportCursor,
        limit: u32,
    ) -> Result<Vec<PortableMemory>, StoreError> {
        portable::export_page(&self.pool, filter, after, limit).await
    }

    #[instrument(skip_all)]
    async fn import_memories(
        &self,
        records: &[PortableMemory],
        scope_limit: u64,
        commit: ImportCommit,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        portable::import(&self.pool, records, scope_limit, commit, progress).await
    }

    #[instrument(skip_all)]
    async fn memory_history(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<Vec<HistoryEvent>, StoreError> {
        let rows: Vec<HistoryRow> = sqlx::query_as(
            "SELECT event, content, user_id, actor_token, at FROM memory_history
             WHERE scope_user = ? AND project_id = ? AND memory_id = ? ORDER BY id",
        )
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    #[instrument(skip_all)]
    async fn put_vector(&self, record: &VectorRecord<'_>) -> Result<bool, StoreError> {
        vectors::put(self, record).await
    }

    #[instrument(skip_all)]
    async fn memories_by_ids(
        &self,
        scope: &Scope,
        ids: &[Uuid],
    ) -> Result<Vec<Memory>, StoreError> {
        vectors::memories_by_ids(self.pool(), scope, ids).await
    }

    #[instrument(skip_all)]
    async fn vector_stamp(&self, scope: &Scope, model: &str) -> Result<VectorStamp, StoreError> {
        vectors::stamp(self.pool(), scope, model).await
    }

    #[instrument(skip_all)]
    async fn vector_changes(&self, scope: &Scope) -> Result<i64, StoreError> {
        vectors::changes(self.pool(), scope).await
    }

    #[instrument(skip_all)]
    async fn scope_vectors(
        &self,
        scope: &Scope,
        model: &str,
    ) -> Result<Vec<StoredVector>, StoreError> {
        vectors::of_scope(self.pool(), scope, model).await
    }

    #[instrument(skip_all)]
    async fn unembedded(
        &self,
        filter: &UnembeddedFilter<'_>,
    ) -> Result<Vec<Unembedded>, StoreError> {
        vectors::unembedded(self.pool(), filter).await
    }

    #[instrument(skip_all)]
    async fn count_unembedded(
        &self,
        project: Option<&str>,
        model: &str,
    ) -> Result<(u64, u64), StoreError> {
        vectors::count_unembedded(self.pool(), project, model).await
    }
}
