//! Stopping the statement of a call that is dropped while it runs. A tool call that is
//! cancelled by the client or runs past `server.timeout` drops its store future; PostgreSQL
//! would still run the statement to its end (a write waiting on a lock would commit once the
//! lock is released, a slow search would keep a backend busy). [`Running`] holds the pooled
//! connection of one call with its backend process id: dropped before [`Running::done`], it
//! asks PostgreSQL to cancel that backend's statement (`pg_cancel_backend`, over another pooled
//! connection) and closes its own connection instead of returning it to the pool, so the
//! cancel can never reach a later call that reuses the connection.

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

use crate::store::StoreError;

/// The pooled connection of one call, cancelled and closed if dropped unfinished.
pub(super) struct Running {
    conn: PoolConnection<Postgres>,
    pid: i32,
    pool: PgPool,
    done: bool,
}

impl Running {
    /// A connection from `pool` and the id of its backend process (one extra round trip).
    ///
    /// Errors: [`StoreError::Query`] when no connection can be had or the query fails.
    pub(super) async fn start(pool: &PgPool) -> Result<Self, StoreError> {
        let mut conn = pool.acquire().await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await?;
        Ok(Running {
            conn,
            pid,
            pool: pool.clone(),
            done: false,
        })
    }

    /// The connection, for the call's statements and transaction.
    pub(super) fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.conn
    }

    /// The call finished (with a result or an error it reports): its connection goes back to
    /// the pool and nothing is cancelled.
    pub(super) fn done(mut self) {
        self.done = true;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Not returned to the pool: once the statement stops, the backend goes with it.
        self.conn.close_on_drop();
        let (pool, pid) = (self.pool.clone(), self.pid);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let cancelled = sqlx::query_scalar::<_, bool>("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .fetch_one(&pool)
                .await;
            match cancelled {
                Ok(_) => tracing::debug!(pid, "cancelled the statement of a dropped call"),
                Err(error) => tracing::warn!(
                    pid,
                    %error,
                    "could not cancel the statement of a cancelled or timed-out call; it runs until it ends or hits the statement timeout"
                ),
            }
        });
    }
}
