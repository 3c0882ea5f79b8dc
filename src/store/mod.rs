//! The SQL layer: one [`MemoryStore`] trait, implemented for PostgreSQL and for the embedded
//! SQLite file. Every method takes the [`Scope`] and filters on it in SQL, so no query can
//! reach another user's or another project's rows. Database details stay in [`StoreError`]; the
//! layers above log them once and show callers a plain message. The token tables have their own
//! trait, [`TokenStore`], implemented by the same two types.

mod migrations;
mod postgres;
mod postgres_tokens;
mod search_terms;
mod sqlite;
mod sqlite_tokens;
mod tokens;

pub use migrations::{Migration, MigrationState, SchemaStatus};
pub use postgres::PostgresStore;
pub use search_terms::SearchTerms;
pub use sqlite::SqliteStore;
pub use tokens::{
    AuditEntry, AuditEvent, AuditRecord, AuthStats, NewToken, TokenRecord, TokenStatus, TokenStore,
};

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::memory::{
    Cursor, HistoryEvent, Memory, MemoryChanges, NewMemory, Principal, Scope, ScoredMemory,
};
use crate::settings::DatabaseTarget;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (down, restarting, refused, timed out).
    #[error("the database is unreachable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The schema is missing or older than this binary expects.
    #[error("{0}")]
    Schema(String),
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
        if is_connection_failure(&error) {
            StoreError::Unavailable(error)
        } else {
            StoreError::Query(error)
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
    Inserted(Memory),
    /// The same content was already in the scope: that memory, unchanged.
    Duplicate(Memory),
    /// The scope already holds `count` memories, at or over the limit.
    ScopeFull {
        count: u64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    Updated(Memory),
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
    pub after: Option<Cursor>,
    pub limit: u32,
}

#[async_trait]
pub trait MemoryStore: Send + Sync + fmt::Debug {
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
    async fn schema_status(&self) -> Result<SchemaStatus, StoreError>;
    /// Applies pending migrations; returns the ones applied.
    async fn migrate(&self) -> Result<Vec<&'static Migration>, StoreError>;

    // Memories
    async fn insert_memory(
        &self,
        scope: &Scope,
        memory: &NewMemory,
        actor: &Principal,
        scope_limit: u64,
    ) -> Result<InsertOutcome, StoreError>;
    async fn get_memory(&self, scope: &Scope, id: Uuid) -> Result<Option<Memory>, StoreError>;
    async fn update_memory(
        &self,
        scope: &Scope,
        id: Uuid,
        changes: &MemoryChanges,
        actor: &Principal,
    ) -> Result<UpdateOutcome, StoreError>;
    /// Deletes these memories of the scope (ids outside it are ignored); returns how many went.
    async fn delete_memories(
        &self,
        scope: &Scope,
        ids: &[Uuid],
        actor: &Principal,
    ) -> Result<u64, StoreError>;
    async fn list_memories(
        &self,
        scope: &Scope,
        filter: &ListFilter<'_>,
    ) -> Result<Vec<Memory>, StoreError>;
    async fn count_memories(
        &self,
        scope: &Scope,
        tags: &[String],
        author: Option<&str>,
    ) -> Result<u64, StoreError>;
    async fn search_memories(
        &self,
        scope: &Scope,
        terms: &SearchTerms,
        tags: &[String],
        limit: u32,
    ) -> Result<Vec<ScoredMemory>, StoreError>;
    async fn memory_history(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<Vec<HistoryEvent>, StoreError>;
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
    pub memories: Arc<dyn MemoryStore>,
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
    match target {
        DatabaseTarget::Postgres(url) => {
            let store = Arc::new(PostgresStore::open(
                url.connection_string(),
                statement_timeout,
            )?);
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

/// Reads a JSON array of tags as stored by either backend.
fn tags_from_json(value: serde_json::Value) -> Result<Vec<String>, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))
}

fn metadata_from_json(value: serde_json::Value) -> Result<crate::memory::Metadata, StoreError> {
    match value {
        serde_json::Value::Object(map) => Ok(map),
        other => Err(StoreError::Corrupt(format!(
            "metadata is not an object: {other}"
        ))),
    }
}
