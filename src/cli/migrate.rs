//! `mem0-mcp migrate [--status]`: applies the embedded migrations to the configured database,
//! or lists each one as applied or pending.

use std::io::Write;

use clap::Args;

use super::{ExitCode, Failure};
use crate::settings::Settings;
use crate::store::{self, MigrationState, StoreError};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only show which migrations are applied and which are pending (exit 4 if any is pending)
    #[arg(long)]
    pub status: bool,
}

pub async fn run(args: &MigrateArgs, settings: &Settings) -> Result<(), Failure> {
    let store = store::open(&settings.database, settings.timeout)
        .await
        .map_err(database_failure)?;
    let target = settings.database.describe();
    let mut out = std::io::stdout().lock();
    if args.status {
        let status = store.schema_status().await.map_err(database_failure)?;
        let _ = writeln!(out, "Database: {target}");
        for (migration, state) in &status.migrations {
            let state = match state {
                MigrationState::Applied { at } => {
                    format!("applied {}", at.format("%Y-%m-%d %H:%M:%S UTC"))
                }
                MigrationState::Pending => "pending".into(),
                MigrationState::Modified { at } => format!(
                    "applied {} from a different text than this binary's",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            };
            let _ = writeln!(out, "  {}_{}  {state}", migration.version, migration.name);
        }
        for version in &status.unknown_versions {
            let _ = writeln!(
                out,
                "  {version}  applied, unknown to this binary (it is older than the database)"
            );
        }
        let pending = status.pending().len();
        if pending > 0 {
            return Err(Failure::new(
                ExitCode::Database,
                format!("{pending} migration(s) pending: run `mem0-mcp migrate` to apply them"),
            ));
        }
        let _ = writeln!(out, "Schema is up to date.");
        return Ok(());
    }
    let applied = store.migrate().await.map_err(database_failure)?;
    if applied.is_empty() {
        let _ = writeln!(out, "Schema is up to date ({target}); nothing to apply.");
    } else {
        for migration in &applied {
            let _ = writeln!(out, "Applied {}_{}", migration.version, migration.name);
        }
        let _ = writeln!(out, "Schema is up to date ({target}).");
    }
    Ok(())
}

/// Database failures exit with 4 and say how to fix the usual causes.
pub fn database_failure(error: StoreError) -> Failure {
    // Settings that cannot form a connection are a configuration error, not an outage.
    let code = match error {
        StoreError::InvalidUrl(_) => ExitCode::Usage,
        _ => ExitCode::Database,
    };
    Failure::new(code, explain(&error).sentence())
}

/// A database failure as what went wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub problem: String,
    /// Empty when the problem already says it.
    pub fix: String,
    separator: &'static str,
}

impl Explained {
    fn new(problem: impl Into<String>, separator: &'static str, fix: impl Into<String>) -> Self {
        Explained {
            problem: problem.into(),
            fix: fix.into(),
            separator,
        }
    }

    /// Problem and fix as the one line commands print.
    pub fn sentence(&self) -> String {
        if self.fix.is_empty() {
            self.problem.clone()
        } else {
            format!("{}{}{}", self.problem, self.separator, self.fix)
        }
    }
}

pub fn explain(error: &StoreError) -> Explained {
    let code = |db: &dyn sqlx::error::DatabaseError| db.code().map(|c| c.into_owned());
    match error {
        StoreError::Unavailable(cause) => Explained::new(
            format!(
                "cannot connect to the database: {}",
                describe_connection_error(cause)
            ),
            "; ",
            "check that PostgreSQL is running and that MEM0_DATABASE_URL (host, port, database, user, password) is right",
        ),
        StoreError::Query(sqlx::Error::Database(db))
            if matches!(code(db.as_ref()).as_deref(), Some("28P01" | "28000")) =>
        {
            Explained::new(
                "the database refused the login",
                ": ",
                "check the user and password (or peer/cert settings) in MEM0_DATABASE_URL",
            )
        }
        StoreError::Query(sqlx::Error::Database(db))
            if code(db.as_ref()).as_deref() == Some("3D000") =>
        {
            Explained::new(
                "the database named in MEM0_DATABASE_URL does not exist",
                ": ",
                "create it (createdb NAME) or fix the name",
            )
        }
        StoreError::Query(sqlx::Error::Database(db))
            if code(db.as_ref()).as_deref() == Some("42501") =>
        {
            Explained::new(
                "the database user lacks a privilege this needs",
                ": ",
                "run `mem0-mcp migrate` as the schema owner, or GRANT the privileges",
            )
        }
        // PostgreSQL's own message, once (sqlx's Display adds its prefix and a line of the
        // server's C source).
        StoreError::Query(sqlx::Error::Database(db)) => Explained::new(
            format!("the database refused the request: {}", db.message()),
            "",
            "",
        ),
        _ => Explained::new(error.to_string(), "", ""),
    }
}

/// Connection errors without anything that could hold a secret.
fn describe_connection_error(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Io(io) => format!("{} ({:?})", io, io.kind()),
        // TLS errors name the certificate problem (unknown issuer, expired, wrong host name, an
        // X.509 v1 client certificate); they hold no secret.
        sqlx::Error::Tls(e) => {
            let text = e.to_string();
            let hint = if text.contains("UnsupportedCertVersion") {
                " (client certificates must be X.509 v3: sign them with an extensions file)"
            } else {
                ""
            };
            format!("the TLS handshake (certificate check) failed: {text}{hint}")
        }
        sqlx::Error::PoolTimedOut => "no free connection within 10 seconds (the server may be at its connection limit: see max_connections, or put PgBouncer in front)".into(),
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}
