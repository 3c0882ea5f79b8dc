//! The SQL layer: one [`MemoryStore`] trait, implemented for PostgreSQL and for the embedded
//! SQLite file. Every method takes the [`Scope`] and filters on it in SQL, so no query can
//! reach another user's or another project's rows. Database details stay in [`StoreError`]; the
//! layers above log them once and show callers a plain message, or, on the command line, the
//! [`StoreError::problem`] that says what failed and how to fix it. The token tables have their own
//! trait, [`TokenStore`], implemented by the same two types.

mod diagnosis;
mod documents;
mod migrations;
mod portable;
mod postgres;
mod search_terms;
mod sqlite;
mod tokens;
mod vectors;

pub use documents::{ScopeStamp, SearchDocument};
pub use migrations::{Migration, MigrationState, SchemaStatus, ensure_current};
pub use portable::{ExportCursor, ExportFilter, ImportCommit, ImportOutcome, PortableMemory};
pub use postgres::PostgresStore;
pub use search_terms::{SearchTerms, is_stopword};
pub use sqlite::{SqliteStore, check_private as check_embedded_private};
pub use tokens::{
    AuditEntry, AuditEvent, AuditRecord, AuthStats, NewToken, TokenHash, TokenRecord, TokenStatus,
    TokenStore, new_public_id,
};
pub use vectors::{StoredVector, Unembedded, UnembeddedFilter, VectorRecord, VectorStamp};

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::access::{Permissions, Principal};
use crate::memory::{
    Cursor, HistoryEvent, HistoryKind, Memory, MemoryChanges, NewMemory, Scope, ScoredMemory,
};
use crate::settings::DatabaseTarget;

/// The actor history names for a memory purged because it expired.
pub const EXPIRY_ACTOR: &str = "mem0-mcp (expired)";

/// Who purges expired memories, as history records it.
fn expiry_actor() -> Principal {
    Principal {
        user_id: EXPIRY_ACTOR.into(),
        permissions: Permissions::NONE,
        token_display_id: None,
    }
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres` or `sqlite`, as logs and `doctor` name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Why a store operation failed. `Display` is for logs; a person gets
/// [`StoreError::problem`] (what failed and how to fix it).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (down, restarting, refused, timed out).
    #[error("the database is unreachable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A shared PostgreSQL whose schema lacks `pending` of this binary's `total` migrations.
    #[error("{}", diagnosis::outdated(*.pending, *.total))]
    Outdated { pending: usize, total: usize },
    /// A migration did not apply (nothing of it was kept: each run is one transaction).
    #[error("migration {migration} failed: {source}")]
    MigrationFailed {
        /// `VERSION_NAME`, as `migrate --status` lists it.
        migration: String,
        source: sqlx::Error,
    },
    /// The embedded database file (or its directory) could not be created.
    #[error(
        "cannot create the embedded database {}: {source}; set MEM0_DATA_DIR to a writable directory",
        .path.display()
    )]
    CreateFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The embedded database or its directory belongs to, or can be written by, someone else.
    #[error("{0}")]
    NotPrivate(crate::problem::Problem),
    /// The connection settings cannot be used (a configuration error, not an outage).
    #[error("{0}")]
    InvalidUrl(String),
    /// Anything else the database said.
    #[error("database error: {0}")]
    Query(#[source] sqlx::Error),
    /// A stored value could not be read back.
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            error if is_connection_failure(&error) => StoreError::Unavailable(error),
            // The row mappers (rows.rs of each backend) report values they cannot read this way.
            sqlx::Error::Decode(source) => StoreError::Corrupt(source.to_string()),
            sqlx::Error::ColumnDecode { index, source } => {
                StoreError::Corrupt(format!("column {index}: {source}"))
            }
            error => StoreError::Query(error),
        }
    }
}

/// Connection-level failures (as opposed to a query the database rejected), so callers can say
/// "try again" rather than "this is a bug".
fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exceptions; 57P01-57P03: the server is shutting down or starting.
            code.starts_with("08") || code.starts_with("57P")
        }),
        _ => false,
    }
}

/// What happened to an `add`.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    /// Stored, with its ADD history event.
    Inserted(Memory),
    /// The same content was already in the scope: that memory, unchanged.
    Duplicate(Memory),
    /// The scope already holds `count` memories, at or over the limit.
    ScopeFull { count: u64 },
}

/// What happened to an `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// Changed, with its UPDATE history event: the memory as now stored.
    Updated(Memory),
    /// No memory with that id in the scope.
    NotFound,
    /// Another memory in the scope already has the new content.
    ContentTaken(Uuid),
}

/// Which memories a listing returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter<'a> {
    /// Memories must carry every one of these tags.
    pub tags: &'a [String],
    /// Only memories written by this user (global mode, without admin).
    pub author: Option<&'a str>,
    /// Only memories older than this position (newest first, keyset pagination).
    pub after: Option<Cursor>,
    /// At most this many.
    pub limit: u32,
}

/// The memory tables of one database. Every method that touches memories takes the [`Scope`]
/// and filters on it in SQL; writes record their history event in the same transaction. The
/// store executes; the rules (validation, permissions, when a change happens) are the memory
/// service's.
#[async_trait]
pub trait MemoryStore: Send + Sync + fmt::Debug {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// One direct connection attempt that reports a down server or a refused login at once,
    /// in its own words (a pool waits for its timeout instead). Ok when the database answers,
    /// even if it is at its connection limit.
    async fn diagnose_unreachable(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Closes connections that sit idle, so a server that is not being used holds none
    /// (many client windows share one PostgreSQL and its connection limit).
    async fn release_idle_connections(&self) {}

    /// One trivial round trip (connecting first if needed): is the database there?
    async fn ping(&self) -> Result<(), StoreError>;

    // Schema
    /// Which migrations the database has applied (none if it has no bookkeeping table).
    async fn schema_status(&self) -> Result<SchemaStatus, StoreError>;
    /// Applies pending migrations; returns the ones applied.
    async fn migrate(&self) -> Result<Vec<&'static Migration>, StoreError>;

    // Memories
    /// Stores a memory unless the scope already holds the same content (by content hash) or
    /// `scope_limit` memories; writers of one scope are serialized, so both checks hold across
    /// processes.
    async fn insert_memory(
        &self,
        scope: &Scope,
        memory: &NewMemory,
        actor: &Principal,
        scope_limit: u64,
    ) -> Result<InsertOutcome, StoreError>;
    /// The memory with this id, if the scope holds it.
    async fn get_memory(&self, scope: &Scope, id: Uuid) -> Result<Option<Memory>, StoreError>;
    /// Writes `changes` (a `None` field keeps the stored value) and the UPDATE history event
    /// at `at` in one transaction, and returns the memory as stored. `updated_at` becomes `at`,
    /// or stays where it is if another session moved it later meanwhile. The store decides
    /// nothing else: [`UpdateOutcome::ContentTaken`] is what the scope's unique content index
    /// says.
    async fn update_memory(
        &self,
        scope: &Scope,
        id: Uuid,
        changes: &MemoryChanges,
        at: chrono::DateTime<chrono::Utc>,
        actor: &Principal,
    ) -> Result<UpdateOutcome, StoreError>;
    /// Deletes these memories of the scope (ids outside it are ignored); returns how many went.
    async fn delete_memories(
        &self,
        scope: &Scope,
        ids: &[Uuid],
        actor: &Principal,
    ) -> Result<u64, StoreError>;
    /// The scope's memories that match `filter`, newest first.
    async fn list_memories(
        &self,
        scope: &Scope,
        filter: &ListFilter<'_>,
    ) -> Result<Vec<Memory>, StoreError>;
    /// How many memories of the scope carry every one of `tags` (and, if given, were written
    /// by `author`).
    async fn count_memories(
        &self,
        scope: &Scope,
        tags: &[String],
        author: Option<&str>,
    ) -> Result<u64, StoreError>;
    /// The scope's memories that match `terms` and carry every one of `tags`, most relevant
    /// first, each with a score from 0 to 1.5 (higher is better).
    async fn search_memories(
        &self,
        scope: &Scope,
        terms: &SearchTerms,
        tags: &[String],
        limit: u32,
    ) -> Result<Vec<ScoredMemory>, StoreError>;
    /// The plan the database chooses for [`MemoryStore::search_memories`] with these arguments,
    /// one step a line (PostgreSQL's `EXPLAIN`, SQLite's `EXPLAIN QUERY PLAN`), for diagnosis
    /// and for tests that hold each query shape to the index. Nothing is run.
    async fn explain_search(
        &self,
        scope: &Scope,
        terms: &SearchTerms,
        tags: &[String],
        limit: u32,
    ) -> Result<String, StoreError>;
    /// The scope's stamp: changes whenever any of its memories is added, edited or deleted, by
    /// any process. One primary-key read.
    async fn scope_stamp(&self, scope: &Scope) -> Result<ScopeStamp, StoreError>;
    /// Every memory of the scope (expired ones too), for the in-process search index.
    async fn scope_documents(&self, scope: &Scope) -> Result<Vec<SearchDocument>, StoreError>;
    /// The plans of [`MemoryStore::scope_stamp`] and [`MemoryStore::scope_documents`], as
    /// [`MemoryStore::explain_search`] shows them, one query after the other. Nothing is run.
    async fn explain_scope_reads(&self, scope: &Scope) -> Result<String, StoreError>;
    /// Deletes the scope's memories whose expiry time is at or before `now`, writing a DELETE
    /// history event for each (actor [`EXPIRY_ACTOR`]), and returns how many went. Reads never
    /// return an expired memory whether or not it was purged yet; purging keeps the scope's
    /// count, the scope limit and dedup exact.
    async fn purge_expired(
        &self,
        scope: &Scope,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError>;
    /// How many memories of the scope expire after `from` and at or before `until`.
    async fn count_expiring(
        &self,
        scope: &Scope,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError>;
    /// Up to `limit` unexpired memories that `filter` selects, in id order after `after`, each
    /// with its history: one page of an export.
    async fn export_page(
        &self,
        filter: &ExportFilter,
        after: ExportCursor,
        limit: u32,
    ) -> Result<Vec<PortableMemory>, StoreError>;
    /// Imports `records` in one transaction, in order: a record whose id is already stored, or
    /// whose content its scope already holds, is unchanged; one whose scope holds
    /// `scope_limit` memories is not stored; any other is stored with its history (an ADD
    /// event at its creation when it has none). Expired memories of the touched scopes are
    /// purged first. Commits as `commit` says, else rolls everything back. `progress` is told
    /// how many records are done, now and then.
    async fn import_memories(
        &self,
        records: &[PortableMemory],
        scope_limit: u64,
        commit: ImportCommit,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<ImportOutcome>, StoreError>;
    /// The history of a memory of the scope (also after it was deleted), oldest first; empty if
    /// the scope never held it.
    async fn memory_history(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<Vec<HistoryEvent>, StoreError>;

    // Vectors (see [`vectors`])
    /// Stores the vector of a memory in place of any earlier one. Returns false, storing
    /// nothing, when the memory is gone or no longer has `record.content_hash`.
    async fn put_vector(&self, record: &VectorRecord<'_>) -> Result<bool, StoreError>;
    /// The memories of the scope with these ids, in no particular order (ids outside the
    /// scope, or gone, are left out): the memories search found by meaning only.
    async fn memories_by_ids(&self, scope: &Scope, ids: &[Uuid])
    -> Result<Vec<Memory>, StoreError>;
    /// How many vectors of `model` the scope has, and the largest write sequence number among
    /// them (reads them all: for status, not for every search).
    async fn vector_stamp(&self, scope: &Scope, model: &str) -> Result<VectorStamp, StoreError>;
    /// The scope's vector change counter: it grows with every vector stored, replaced or
    /// deleted in the scope, by any writer (a trigger keeps it), so equal values mean equal
    /// vectors. One primary-key read; 0 for a scope that never had a memory.
    async fn vector_changes(&self, scope: &Scope) -> Result<i64, StoreError>;
    /// Every vector of `model` in the scope.
    async fn scope_vectors(
        &self,
        scope: &Scope,
        model: &str,
    ) -> Result<Vec<StoredVector>, StoreError>;
    /// Memories without a vector of `filter.model`, by id.
    async fn unembedded(
        &self,
        filter: &UnembeddedFilter<'_>,
    ) -> Result<Vec<Unembedded>, StoreError>;
    /// How many memories (of the project, or all) lack a vector of `model`, and how many
    /// there are.
    async fn count_unembedded(
        &self,
        project: Option<&str>,
        model: &str,
    ) -> Result<(u64, u64), StoreError>;
}

/// Opens the store the settings point at. PostgreSQL connections are made lazily by the pool;
/// the embedded file is created (owner-only) if it does not exist yet.
pub async fn open(
    target: &DatabaseTarget,
    statement_timeout: std::time::Duration,
) -> Result<Arc<dyn MemoryStore>, StoreError> {
    match target {
        DatabaseTarget::Postgres(url) => {
            let store = PostgresStore::open(url.connection_string(), statement_timeout)?;
            store.diagnose_unreachable().await?;
            Ok(Arc::new(store))
        }
        DatabaseTarget::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path).await?)),
    }
}

/// One connection pool seen through both traits.
#[derive(Debug, Clone)]
pub struct Stores {
    /// The memory tables.
    pub memories: Arc<dyn MemoryStore>,
    /// The token and audit tables.
    pub tokens: Arc<dyn TokenStore>,
}

/// Like [`open`], for callers that also need the token tables.
pub async fn open_all(
    target: &DatabaseTarget,
    statement_timeout: std::time::Duration,
) -> Result<Stores, StoreError> {
    let stores = open_all_lazy(target, statement_timeout).await?;
    stores.memories.diagnose_unreachable().await?;
    Ok(stores)
}

/// [`open_all`] without the upfront connection check, for `serve`, whose first query shows
/// soon enough whether the database is there (see [`MemoryStore::diagnose_unreachable`]).
pub async fn open_all_lazy(
    target: &DatabaseTarget,
    statement_timeout: std::time::Duration,
) -> Result<Stores, StoreError> {
    open_all_pooled(target, statement_timeout, None).await
}

/// [`open_all_lazy`] for the shared HTTP server: on PostgreSQL one pool of `pool_size`
/// connections (kept for a minute when idle) serves every request.
pub async fn open_all_pooled(
    target: &DatabaseTarget,
    statement_timeout: std::time::Duration,
    pool_size: Option<u32>,
) -> Result<Stores, StoreError> {
    match target {
        DatabaseTarget::Postgres(url) => {
            let store = Arc::new(match pool_size {
                Some(size) => PostgresStore::open_pool(
                    url.connection_string(),
                    statement_timeout,
                    size,
                    std::time::Duration::from_secs(60),
                )?,
                None => PostgresStore::open(url.connection_string(), statement_timeout)?,
            });
            Ok(Stores {
                memories: store.clone(),
                tokens: store,
            })
        }
        DatabaseTarget::Sqlite(path) => {
            let store = Arc::new(SqliteStore::open(path).await?);
            Ok(Stores {
                memories: store.clone(),
                tokens: store,
            })
        }
    }
}

/// A stored value that does not read back as what this binary writes.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CorruptValue(String);

/// The error a row mapper returns for a value it cannot read; it becomes
/// [`StoreError::Corrupt`].
fn corrupt(what: impl Into<String>) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(CorruptValue(what.into())))
}

/// Reads a JSON array of tags as stored by either backend.
fn tags_from_json(value: serde_json::Value) -> Result<Vec<String>, sqlx::Error> {
    serde_json::from_value(value).map_err(|e| corrupt(format!("tags: {e}")))
}

/// Reads a memory's metadata, a JSON object, as stored by either backend.
fn metadata_from_json(value: serde_json::Value) -> Result<crate::memory::Metadata, sqlx::Error> {
    match value {
        serde_json::Value::Object(map) => Ok(map),
        other => Err(corrupt(format!("metadata is not an object: {other}"))),
    }
}

/// Reads a token's stored permissions.
fn permissions_from_json(value: &serde_json::Value) -> Result<Permissions, sqlx::Error> {
    Permissions::from_json(value).map_err(|e| corrupt(e.to_string()))
}

/// Reads a stored history event name.
fn history_kind(name: &str) -> Result<HistoryKind, sqlx::Error> {
    HistoryKind::parse(name).ok_or_else(|| corrupt(format!("history event {name}")))
}

/// Reads a stored audit `event_type`.
fn audit_event(name: &str) -> Result<AuditEvent, sqlx::Error> {
    AuditEvent::parse(name).ok_or_else(|| corrupt(format!("audit event_type '{name}'")))
}
