//! The real PostgreSQL server of the machine (127.0.0.1:5432, superuser `postgres`, or
//! `MEM0_TEST_ADMIN_URL`), reached as an administrator, and the ONE throw-away database type:
//! [`PgDatabase`], named `m0t_<random hex>`, created empty and dropped (`WITH (FORCE)`) when the
//! test ends, also when it panics.
//!
//! PostgreSQL being unreachable FAILS the test with what to do; nothing is skipped.

use std::future::Future;

use sqlx::Connection;

use super::binary::LIMIT;

pub const DEFAULT_ADMIN_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

/// `MEM0_TEST_ADMIN_URL`, else the local server's `postgres` superuser over TCP.
pub fn admin_url() -> String {
    std::env::var("MEM0_TEST_ADMIN_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_string())
}

/// `admin` with its database name replaced by `database` (query string kept).
pub fn database_url(admin: &str, database: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| authority_start + i)
        .unwrap_or(base.len());
    let mut url = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// A connection to the admin database; an unreachable server fails the test with what to do.
pub async fn admin_connection() -> sqlx::PgConnection {
    match tokio::time::timeout(LIMIT, sqlx::PgConnection::connect(&admin_url())).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "PostgreSQL is unreachable at MEM0_TEST_ADMIN_URL (default {DEFAULT_ADMIN_URL}): {e}. \
             These tests need the real server: start it (e.g. `pg_ctlcluster 15 main start`)."
        ),
        Err(_) => panic!("connecting to PostgreSQL at the admin URL took over 60 s"),
    }
}

/// Runs one SQL statement on the admin database; returns the rows affected.
pub async fn admin_execute(sql: String) -> u64 {
    let mut conn = admin_connection().await;
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("admin SQL failed: {sql}: {e}"));
    let _ = conn.close().await;
    done.rows_affected()
}

/// Runs one query on the admin database returning a single i64.
pub async fn admin_scalar(sql: String) -> i64 {
    let mut conn = admin_connection().await;
    let value: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("admin SQL failed: {sql}: {e}"));
    let _ = conn.close().await;
    value
}

/// Runs `work` to completion on a runtime of its own, on a thread of its own: callable from
/// synchronous tests, from async tests, and from `Drop` (where the test's runtime may be gone).
/// A panic inside `work` fails the caller.
pub fn block_on<F>(work: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let joined = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the admin connection")
            .block_on(work)
    })
    .join();
    joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A throw-away database `m0t_<16 hex>`, empty, dropped on `Drop` (even if the test panics).
#[derive(Debug)]
pub struct PgDatabase {
    pub name: String,
    /// The admin URL with this database: it connects as the admin user, without a password.
    pub url: String,
}

impl PgDatabase {
    /// Creates the database (blocking for the one statement, see [`block_on`]).
    pub fn create() -> Self {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("m0t_{}", &hex[..16]);
        block_on(admin_execute(format!("CREATE DATABASE \"{name}\"")));
        let url = database_url(&admin_url(), &name);
        PgDatabase { name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            block_on(admin_execute(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
        })
        .join();
        if dropped.is_err() {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}
