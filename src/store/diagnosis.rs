//! What a database failure means to the person who has to fix it. Every SQLSTATE and connection
//! error the commands explain is turned into a [`Problem`] here, in one place: what failed (in
//! the database's own words where they help, never with a secret) and what to do about it.
//! Commands print [`Problem::sentence`]; `doctor` prints the two parts on their own lines.

use super::StoreError;
use crate::problem::Problem;

/// What to check when the server cannot be reached at all.
const CHECK_SERVER: &str = "check that PostgreSQL is running and that MEM0_DATABASE_URL (host, port, database, user, password) is right";

impl StoreError {
    /// Whether the database ran out of disk space (SQLite `SQLITE_FULL`, PostgreSQL `53100`).
    pub fn is_disk_full(&self) -> bool {
        let (StoreError::Query(sqlx::Error::Database(db))
        | StoreError::MigrationFailed {
            source: sqlx::Error::Database(db),
            ..
        }) = self
        else {
            return false;
        };
        // SQLite reports extended result codes: the primary code is the low byte.
        let sqlite_full = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
            && db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .is_some_and(|c| c & 0xff == 13);
        sqlite_full || db.code().as_deref() == Some("53100")
    }

    /// What failed and how to fix it, for a person (the model never sees database detail).
    pub fn problem(&self) -> Problem {
        let code = |db: &dyn sqlx::error::DatabaseError| db.code().map(|c| c.into_owned());
        match self {
            StoreError::Unavailable(cause) => Problem::new(
                format!(
                    "cannot connect to the database: {}",
                    describe_connection_error(cause)
                ),
                CHECK_SERVER,
            ),
            StoreError::Query(sqlx::Error::Database(db)) => match code(db.as_ref()).as_deref() {
                Some("28P01" | "28000") => Problem::new(
                    "the database refused the login",
                    "check the user and password (or peer/cert settings) in MEM0_DATABASE_URL",
                ),
                Some("3D000") => Problem::new(
                    "the database named in MEM0_DATABASE_URL does not exist",
                    "create it (createdb NAME) or fix the name",
                ),
                Some("42501") => Problem::new(
                    "the database user lacks a privilege this needs",
                    "run `mem0-mcp migrate` as the schema owner, or GRANT the privileges",
                ),
                // PostgreSQL's own message, once (sqlx's Display adds its prefix and a line of
                // the server's C source).
                _ => Problem::plain(format!(
                    "the database refused the request: {}",
                    db.message()
                )),
            },
            StoreError::Outdated { pending, total } => outdated(*pending, *total),
            StoreError::CreateFile { path, source } => Problem::new(
                format!(
                    "cannot create the embedded database {}: {source}",
                    path.display()
                ),
                "set MEM0_DATA_DIR to a writable directory",
            ),
            StoreError::NotPrivate(problem) => problem.clone(),
            _ => Problem::plain(self.to_string()),
        }
    }
}

/// A shared database that lacks `pending` of the `total` migrations: it is migrated
/// deliberately, by someone allowed to create tables.
pub(super) fn outdated(pending: usize, total: usize) -> Problem {
    let what = if pending == total {
        "has no mem0-mcp schema yet".to_string()
    } else {
        format!("is missing {pending} of {total} migrations")
    };
    Problem::new(
        format!("the database {what}"),
        "run `mem0-mcp migrate` with the same settings (as a user allowed to create tables), then restart the client",
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outdated_schema_says_how_much_is_missing_and_what_to_run() {
        let none = StoreError::Outdated {
            pending: 5,
            total: 5,
        };
        assert_eq!(
            none.problem().sentence(),
            "the database has no mem0-mcp schema yet: run `mem0-mcp migrate` with the same settings (as a user allowed to create tables), then restart the client"
        );
        let some = StoreError::Outdated {
            pending: 2,
            total: 5,
        };
        assert_eq!(
            some.problem().what,
            "the database is missing 2 of 5 migrations"
        );
        assert_eq!(some.to_string(), some.problem().sentence());
    }

    #[test]
    fn an_unreachable_server_names_the_cause_then_the_fix() {
        let refused = StoreError::Unavailable(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        )));
        let problem = refused.problem();
        assert_eq!(
            problem.what,
            "cannot connect to the database: Connection refused (ConnectionRefused)"
        );
        assert_eq!(problem.fix, CHECK_SERVER);
        assert!(
            problem
                .sentence()
                .contains("(ConnectionRefused); check that")
        );
    }
}
