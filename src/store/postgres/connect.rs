//! Opening a PostgreSQL store: the URL parsed into connection options (without ever quoting it
//! in an error), the pool's size and idle time, and the statement timeout set after connecting.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::PostgresStore;
use crate::settings::Secret;
use crate::store::StoreError;

impl PostgresStore {
    /// A store for the database at `url`, connecting lazily (nothing is contacted here); every
    /// statement is cancelled after `statement_timeout` (at least 1 ms).
    ///
    /// Errors: [`StoreError::InvalidUrl`], naming the kind of mistake without quoting the URL.
    pub fn open(url: &Secret, statement_timeout: Duration) -> Result<Self, StoreError> {
        Self::open_pool(url, statement_timeout, 4, Duration::from_secs(2))
    }

    /// Like [`PostgresStore::open`] for a long-running shared server: up to `max_connections`
    /// connections, each kept for `idle_timeout` when unused.
    pub fn open_pool(
        url: &Secret,
        statement_timeout: Duration,
        max_connections: u32,
        idle_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url.expose())
            .map_err(|e| {
                StoreError::InvalidUrl(format!(
                    "MEM0_DATABASE_URL is not a valid PostgreSQL URL: {}",
                    redact_url_error(&e)
                ))
            })?
            .application_name("mem0-mcp")
            // PgBouncer refuses unknown startup parameters; floats travel in binary anyway.
            .extra_float_digits(None);
        // statement_timeout is set after connecting rather than as a startup option, which
        // PgBouncer refuses (or silently drops when told to ignore it).
        let timeout_ms = statement_timeout.as_millis().clamp(1, i32::MAX as u128);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            // By default idle connections go back quickly: many client windows share one
            // server's connection limit. Waiting for a free slot may take a while in a burst.
            .idle_timeout(idle_timeout)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SET statement_timeout = {timeout_ms}"
                    )))
                    .execute(connection)
                    .await
                    .map(drop)
                })
            })
            .connect_lazy_with(options.clone());
        Ok(PostgresStore { pool, options })
    }
}

/// sqlx's URL parse errors can quote the URL; keep only the kind of problem.
fn redact_url_error(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Configuration(_) => {
            "expected postgresql://user@host:port/database (check the scheme, host, port, sslmode and the percent-encoding of special characters)".into()
        }
        _ => "it could not be parsed".into(),
    }
}
