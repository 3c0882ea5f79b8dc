//! The PostgreSQL store. Connections are opened lazily by a small pool and released when idle,
//! so many client windows can share one server; writes to a scope are serialized with a
//! transaction-scoped advisory lock so dedup and the scope limit hold across processes. The
//! token tables are in [`tokens`], the row mapping in [`rows`].

mod cancel;
mod connect;
mod documents;
mod expiry;
mod portable;
mod rows;
mod schema;
mod search;
mod tokens;
mod vectors;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgRow};
use sqlx::query::QueryAs;
use sqlx::{Connection, FromRow, Postgres, Row, Transaction};
use tracing::instrument;
use uuid::Uuid;

use self::cancel::Running;
use self::rows::{HistoryRow, MEMORY_COLUMNS, MemoryRow, NOT_EXPIRED, ScoredRow};
use super::migrations::{AppliedMigration, POSTGRES};
use super::{
    Backend, ExportCursor, ExportFilter, ImportCommit, ImportOutcome, InsertOutcome, ListFilter,
    MemoryStore, Migration, PortableMemory, SchemaStatus, SearchTerms, StoreError, StoredVector,
    Unembedded, UnembeddedFilter, UpdateOutcome, VectorRecord, VectorStamp,
};
use super::{ScopeStamp, SearchDocument};
use crate::access::Principal;
use crate::memory::search_text::index_extra;
use crate::memory::{
    HistoryEvent, HistoryKind, Memory, MemoryChanges, NewMemory, Scope, ScoredMemory,
};

/// Memories and tokens in a PostgreSQL database (both traits, one pool).
pub struct PostgresStore {
    pool: PgPool,
    options: PgConnectOptions,
}

impl std::fmt::Debug for PostgresStore {
    // PgConnectOptions' Debug prints the password: show nothing of the connection.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// The connection pool, for the token tables.
    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn applied(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        schema::applied(&self.pool).await
    }
}

/// Serializes writers of one scope for the rest of the transaction.
async fn lock_scope(tx: &mut Transaction<'_, Postgres>, scope: &Scope) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 0))")
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn find_by_hash<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    scope: &Scope,
    hash: &str,
) -> Result<Option<Memory>, StoreError> {
    let sql = format!(
        "SELECT {MEMORY_COLUMNS} FROM memories WHERE scope_user = $1 AND project_id = $2 AND content_hash = $3 AND {NOT_EXPIRED}"
    );
    let row: Option<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(hash)
        .fetch_optional(executor)
        .await?;
    Ok(row.map(|r| r.0))
}

/// One statement that changes memories and writes their history rows, so the two cannot part
/// and cost one round trip. `change` is an INSERT, UPDATE or DELETE on `memories` whose own
/// parameters start at `$4`; `$1` is the acting user, `$2` the display id of their token and
/// `$3` the time of the event (bind them with [`bind_actor`]). The statement returns
/// `SELECT {result} FROM changed`, `changed` being the changed rows as they are after the
/// change (for a DELETE: as they were).
fn with_history(change: &str, event: HistoryKind, result: &str) -> String {
    format!(
        "WITH changed AS ({change} RETURNING id, user_id, scope_user, project_id, content, tags, metadata, created_at, updated_at, expires_at),
              history AS (
                  INSERT INTO memory_history (memory_id, user_id, scope_user, project_id, event, content, tags, metadata, actor_token, at)
                  SELECT id, $1, scope_user, project_id, '{event}', content, tags, metadata, $2, $3 FROM changed
              )
         SELECT {result} FROM changed",
        event = event.as_str()
    )
}

/// Binds `$1` to `$3` of a [`with_history`] statement.
fn bind_actor<'q, O>(
    sql: String,
    actor: &'q Principal,
    at: DateTime<Utc>,
) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&actor.user_id)
        .bind(actor.token_display_id.as_deref())
        .bind(at)
}

/// How many memories the scope holds, from the counter row the triggers keep (no row: none).
async fn scope_count<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    scope: &Scope,
) -> Result<u64, StoreError> {
    let count: Option<i64> = sqlx::query_scalar(
        "SELECT memories FROM memory_scope_counts WHERE scope_user = $1 AND project_id = $2",
    )
    .bind(scope.owner_key())
    .bind(&scope.project_id)
    .fetch_optional(executor)
    .await?;
    Ok(count.unwrap_or(0) as u64)
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

#[async_trait]
impl MemoryStore for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    /// One direct connection attempt, so that a server that is down, a refused login or a
    /// wrong database name is reported at once and in its own words (the pool retries refused
    /// connections until its timeout). "Too many connections" is left to the pool, which waits
    /// for a free slot.
    async fn diagnose_unreachable(&self) -> Result<(), StoreError> {
        use sqlx::Connection;
        match sqlx::PgConnection::connect_with(&self.options).await {
            Ok(connection) => {
                let _ = connection.close().await;
                Ok(())
            }
            Err(sqlx::Error::Database(db))
                if matches!(db.code().as_deref(), Some("53300" | "57P03")) =>
            {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn release_idle_connections(&self) {
        for _ in 0..self.pool.num_idle() {
            match self.pool.try_acquire() {
                Some(connection) => {
                    let _ = connection.close().await;
                }
                None => break,
            }
        }
    }

    #[instrument(skip_all)]
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        Ok(SchemaStatus::new(POSTGRES, &self.applied().await?))
    }

    #[instrument(skip_all)]
    async fn migrate(&self) -> Result<Vec<&'static Migration>, StoreError> {
        schema::migrate(&self.pool).await
    }

    #[instrument(skip_all)]
    async fn insert_memory(
        &self,
        scope: &Scope,
        new: &NewMemory,
        actor: &Principal,
        scope_limit: u64,
    ) -> Result<InsertOutcome, StoreError> {
        let mut running = Running::start(&self.pool).await?;
        let conn = running.conn();
        let result: Result<InsertOutcome, StoreError> = async {
        // Five round trips: begin, lock, look up (duplicate and count together), insert (the
        // memory, its history event and its vector in one statement), commit.
        let mut tx = conn.begin().await?;
        lock_scope(&mut tx, scope).await?;
        // Expired memories neither count against the limit nor make a duplicate.
        expiry::purge_expired_rows(&mut *tx, scope, new.at).await?;
        let sql = format!(
            "SELECT (SELECT memories FROM memory_scope_counts WHERE scope_user = $1 AND project_id = $2) AS scope_count,
                    found.*
             FROM (SELECT 1) AS one
             LEFT JOIN (
                 SELECT {MEMORY_COLUMNS} FROM memories WHERE scope_user = $1 AND project_id = $2 AND content_hash = $3
             ) AS found ON true"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(&new.content_hash)
            .fetch_one(&mut *tx)
            .await?;
        if row.try_get::<Option<Uuid>, _>("id")?.is_some() {
            let existing = MemoryRow::from_row(&row)?.0;
            tx.commit().await?;
            return Ok(InsertOutcome::Duplicate(existing));
        }
        let count = row.try_get::<Option<i64>, _>("scope_count")?.unwrap_or(0) as u64;
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
        let mut sql = with_history(
            "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, tags, metadata, created_at, updated_at, search_extra, expires_at)
             VALUES ($4, $1, $5, $6, $7, $8, $9, $10, $3, $3, $11, $12)",
            HistoryKind::Add,
            "count(*)",
        );
        if new.vector.is_some() {
            sql = vectors::with_vector_insert(&sql);
        }
        let query = bind_actor::<(i64,)>(sql, actor, new.at)
            .bind(memory.id)
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(&memory.content)
            .bind(&new.content_hash)
            .bind(serde_json::json!(memory.tags))
            .bind(serde_json::Value::Object(memory.metadata.clone()))
            .bind(index_extra(&memory.content))
            .bind(memory.expires_at);
        let query = match &new.vector {
            Some(vector) => query.bind(&vector.model).bind(&vector.vector),
            None => query,
        };
        let inserted = query.fetch_one(&mut *tx).await;
        if let Err(error) = inserted {
            if is_unique_violation(&error) {
                // Only reachable if a writer bypassed the scope lock; the row is there either way.
                drop(tx);
                let existing = find_by_hash(&mut *conn, scope, &new.content_hash).await?;
                return existing
                    .map(InsertOutcome::Duplicate)
                    .ok_or(StoreError::Query(error));
            }
            return Err(error.into());
        }
        tx.commit().await?;
        Ok(InsertOutcome::Inserted(memory))
        }
        .await;
        running.done();
        result
    }

    #[instrument(skip_all)]
    async fn get_memory(&self, scope: &Scope, id: Uuid) -> Result<Option<Memory>, StoreError> {
        let sql = format!(
            "SELECT {MEMORY_COLUMNS} FROM memories WHERE scope_user = $1 AND project_id = $2 AND id = $3 AND {NOT_EXPIRED}"
        );
        let row: Option<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(id)
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
        let mut running = Running::start(&self.pool).await?;
        let conn = running.conn();
        let result: Result<UpdateOutcome, StoreError> = async {
        let mut tx = conn.begin().await?;
        lock_scope(&mut tx, scope).await?;
        let change = format!(
            "UPDATE memories SET content = COALESCE($7, content), content_hash = COALESCE($8, content_hash),
                                 tags = COALESCE($9, tags), metadata = COALESCE($10, metadata),
                                 updated_at = GREATEST($3, updated_at),
                                 search_extra = COALESCE($11, search_extra),
                                 expires_at = CASE WHEN $12 THEN $13 ELSE expires_at END
             WHERE scope_user = $4 AND project_id = $5 AND id = $6 AND {NOT_EXPIRED}"
        );
        let sql = with_history(&change, HistoryKind::Update, MEMORY_COLUMNS);
        let (content, hash) = changes.content.as_ref().map(|(c, h)| (c, h)).unzip();
        let updated = bind_actor::<MemoryRow>(sql, actor, at)
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(id)
            .bind(content)
            .bind(hash)
            .bind(changes.tags.as_ref().map(|t| serde_json::json!(t)))
            .bind(changes.metadata.clone().map(serde_json::Value::Object))
            .bind(content.map(|c| index_extra(c)))
            .bind(changes.expires_at.is_some())
            .bind(changes.expires_at.flatten())
            .fetch_optional(&mut *tx)
            .await;
        match updated {
            Ok(Some(MemoryRow(memory))) => {
                tx.commit().await?;
                Ok(UpdateOutcome::Updated(memory))
            }
            Ok(None) => Ok(UpdateOutcome::NotFound),
            // The unique index on the scope's content hashes: another memory has this content.
            Err(error) if is_unique_violation(&error) => {
                drop(tx);
                let other = match hash {
                    Some(hash) => find_by_hash(&mut *conn, scope, hash).await?,
                    None => None,
                };
                other
                    .map(|m| UpdateOutcome::ContentTaken(m.id))
                    .ok_or(StoreError::Query(error))
            }
            Err(error) => Err(error.into()),
        }
        }
        .await;
        running.done();
        result
    }

    #[instrument(skip_all)]
    async fn delete_memories(
        &self,
        scope: &Scope,
        ids: &[Uuid],
        actor: &Principal,
    ) -> Result<u64, StoreError> {
        let mut running = Running::start(&self.pool).await?;
        let conn = running.conn();
        let result: Result<u64, StoreError> = async {
            // One statement: the rows go and their DELETE events are written, or neither.
            let sql = with_history(
                "DELETE FROM memories WHERE scope_user = $4 AND project_id = $5 AND id = ANY($6)",
                HistoryKind::Delete,
                "count(*)",
            );
            let (deleted,) = bind_actor::<(i64,)>(sql, actor, crate::memory::now())
                .bind(scope.owner_key())
                .bind(&scope.project_id)
                .bind(ids)
                .fetch_one(&mut *conn)
                .await?;
            Ok(deleted as u64)
        }
        .await;
        running.done();
        result
    }

    #[instrument(skip_all)]
    async fn list_memories(
        &self,
        scope: &Scope,
        filter: &ListFilter<'_>,
    ) -> Result<Vec<Memory>, StoreError> {
        let sql = format!(
            "SELECT {MEMORY_COLUMNS} FROM memories
             WHERE scope_user = $1 AND project_id = $2 AND {NOT_EXPIRED}
               AND ($3::jsonb = '[]'::jsonb OR tags @> $3)
               AND ($4::text IS NULL OR user_id = $4)
               AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
             ORDER BY created_at DESC, id DESC
             LIMIT $7"
        );
        let rows: Vec<MemoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(serde_json::json!(filter.tags))
            .bind(filter.author)
            .bind(filter.after.map(|c| c.created_at))
            .bind(filter.after.map(|c| c.id).unwrap_or_else(Uuid::nil))
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
            "SELECT count(*) FROM memories
             WHERE scope_user = $1 AND project_id = $2 AND {NOT_EXPIRED} AND ($3::jsonb = '[]'::jsonb OR tags @> $3) AND ($4::text IS NULL OR user_id = $4)"
        );
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner_key())
            .bind(&scope.project_id)
            .bind(serde_json::json!(tags))
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
        let mut running = Running::start(&self.pool).await?;
        let rows: Result<Vec<ScoredRow>, sqlx::Error> =
            sqlx::query_as_with(sqlx::AssertSqlSafe(sql), args)
                .fetch_all(running.conn())
                .await;
        running.done();
        Ok(rows?.into_iter().map(|r| r.0).collect())
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
        expiry::purge_expired(&self.pool, scope, now).await
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
             WHERE scope_user = $1 AND project_id = $2 AND memory_id = $3 ORDER BY id",
        )
        .bind(scope.owner_key())
        .bind(&scope.project_id)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    #[instrument(skip_all)]
    async fn put_vector(&self, record: &VectorRecord<'_>) -> Result<bool, StoreError> {
        vectors::put(&self.pool, record).await
    }

    #[instrument(skip_all)]
    async fn memories_by_ids(
        &self,
        scope: &Scope,
        ids: &[Uuid],
    ) -> Result<Vec<Memory>, StoreError> {
        vectors::memories_by_ids(&self.pool, scope, ids).await
    }

    #[instrument(skip_all)]
    async fn vector_stamp(&self, scope: &Scope, model: &str) -> Result<VectorStamp, StoreError> {
        vectors::stamp(&self.pool, scope, model).await
    }

    #[instrument(skip_all)]
    async fn vector_changes(&self, scope: &Scope) -> Result<i64, StoreError> {
        vectors::changes(&self.pool, scope).await
    }

    #[instrument(skip_all)]
    async fn scope_vectors(
        &self,
        scope: &Scope,
        model: &str,
    ) -> Result<Vec<StoredVector>, StoreError> {
        vectors::of_scope(&self.pool, scope, model).await
    }

    #[instrument(skip_all)]
    async fn unembedded(
        &self,
        filter: &UnembeddedFilter<'_>,
    ) -> Result<Vec<Unembedded>, StoreError> {
        vectors::unembedded(&self.pool, filter).await
    }

    #[instrument(skip_all)]
    async fn count_unembedded(
        &self,
        project: Option<&str>,
        model: &str,
    ) -> Result<(u64, u64), StoreError> {
        vectors::count_unembedded(&self.pool, project, model).await
    }
}
