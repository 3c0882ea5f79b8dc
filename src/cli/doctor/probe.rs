//! The database, schema and token checks: connect with the settings given (as this shell or a
//! client would start the server), measure a round trip, read the migration state and validate
//! the token, all without changing anything (no migration, no audit row, no `last_used_at`).

use std::time::{Duration, Instant};

use chrono::Utc;

use super::check::Check;
use crate::auth::{self, AuthError, Credentials};

use crate::problem::Problem;
use crate::project::ProjectMode;
use crate::settings::{DatabaseTarget, Loaded, SecretName, Settings, Source};
use crate::store::{self, Backend, MigrationState, Stores};

/// What the database, schema and token checks found.
#[derive(Debug)]
pub(super) struct Probe {
    pub database: Check,
    pub schema: Option<Check>,
    /// `None` when no token is configured (or the database could not be asked).
    pub token: Option<Check>,
    pub stores: Option<Stores>,
}

impl Probe {
    /// The database cannot be asked: nothing else was checked.
    fn database_only(database: Check) -> Probe {
        Probe {
            database,
            schema: None,
            token: None,
            stores: None,
        }
    }
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// Connects to the database the settings select and checks the schema and the token, changing
/// nothing.
pub(super) async fn probe(loaded: &Loaded) -> Probe {
    let settings = &loaded.settings;
    let described = match &settings.database {
        DatabaseTarget::Postgres(url) => format!("PostgreSQL at {}", url.describe()),
        DatabaseTarget::Sqlite(path) => format!("embedded SQLite at {}", path.display()),
    };
    if let DatabaseTarget::Sqlite(path) = &settings.database
        && let Err(e) = crate::store::check_embedded_private(path)
    {
        let problem = e.problem();
        return Probe::database_only(Check::fail("database", problem.what, problem.fix));
    }
    if let DatabaseTarget::Sqlite(path) = &settings.database
        && !path.exists()
    {
        return Probe::database_only(Check::warn(
            "database",
            format!("{described} does not exist yet (the server creates it when it first starts)"),
            "run `mem0-mcp init` to create it now",
        ));
    }
    let (stores, connect, latency) = match connect(settings, &described).await {
        Ok(connected) => connected,
        Err(check) => return Probe::database_only(check),
    };
    let database = Check::pass(
        "database",
        format!(
            "{described} reachable ({} round trip, {} to connect)",
            millis(latency),
            millis(connect)
        ),
    );
    let (schema, tables_ready) = schema_check(&stores).await;
    // The token tables exist only once every migration is applied.
    let token = if settings.token.is_some() && tables_ready {
        Some(token_check(loaded, &stores).await)
    } else {
        None
    };
    Probe {
        database,
        schema: Some(schema),
        token,
        stores: Some(stores),
    }
}

/// Opens the stores and makes two round trips: the first includes connecting, the second is
/// the latency.
async fn connect(
    settings: &Settings,
    described: &str,
) -> Result<(Stores, Duration, Duration), Check> {
    let opened = tokio::time::timeout(PROBE_TIMEOUT, async {
        let stores = store::open_all(&settings.database, settings.timeout).await?;
        let started = Instant::now();
        stores.memories.ping().await?;
        let first = started.elapsed();
        let started = Instant::now();
        stores.memories.ping().await?;
        Ok::<_, store::StoreError>((stores, first, started.elapsed()))
    })
    .await;
    match opened {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => {
            let explained = e.problem();
            Err(Check::fail(
                "database",
                format!("{described}: {}", explained.what),
                explained.fix,
            ))
        }
        Err(_) => Err(Check::fail(
            "database",
            format!(
                "{described} did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ),
            "check that the host and port are right and that a firewall lets the connection through",
        )),
    }
}

/// The schema's state, and whether every migration is applied.
async fn schema_check(stores: &Stores) -> (Check, bool) {
    let backend = stores.memories.backend();
    let status = match stores.memories.schema_status().await {
        Ok(status) => status,
        Err(e) => {
            let explained = e.problem();
            return (Check::fail("schema", explained.what, explained.fix), false);
        }
    };
    let all = status.migrations.len();
    let pending = status.pending().len();
    let modified = status
        .migrations
        .iter()
        .filter(|(_, s)| matches!(s, MigrationState::Modified { .. }))
        .count();
    let check = if pending > 0 && backend == Backend::Postgres {
        let what = if pending == all {
            "the database has no mem0-mcp schema yet".to_string()
        } else {
            format!("{pending} of {all} migrations are pending")
        };
        Check::fail(
            "schema",
            what,
            "run `mem0-mcp migrate` with the same settings, as a user allowed to create tables",
        )
    } else if pending > 0 {
        Check::pass(
            "schema",
            format!(
                "{pending} of {all} migrations pending; the server applies them when it starts"
            ),
        )
    } else if !status.unknown_versions.is_empty() {
        Check::warn(
            "schema",
            format!(
                "the database has {} migration(s) this binary does not know: it is older than the schema",
                status.unknown_versions.len()
            ),
            "update mem0-mcp to the version that migrated the database",
        )
    } else if modified > 0 {
        Check::warn(
            "schema",
            format!(
                "{modified} migration(s) were applied from a different text than this binary's"
            ),
            "check `mem0-mcp migrate --status`; the database was migrated by another build",
        )
    } else {
        Check::pass("schema", format!("up to date ({all} migrations)"))
    };
    (check, pending == 0)
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

async fn token_check(loaded: &Loaded, stores: &Stores) -> Check {
    let settings = &loaded.settings;
    let credentials = Credentials {
        token: settings.token.as_ref(),
        user_id: settings.user_id.as_deref(),
        jwt_secret: settings.jwt_secret.as_ref(),
    };
    let from = match loaded.resolved.source(SecretName::Token.env()) {
        Some(Source::File) => loaded
            .resolved
            .secret_files
            .get(SecretName::Token.env())
            .map(|p| format!("from {}", p.display()))
            .unwrap_or_else(|| "from a file".into()),
        Some(source) => format!("from {}", source.as_str()),
        None => String::new(),
    };
    let global = settings.project_mode == ProjectMode::Global;
    match auth::verify(stores.tokens.as_ref(), credentials, global).await {
        Ok(done) => {
            let principal = &done.principal;
            let expiry = match done.session.expires_at {
                None => ("never expires".to_string(), None),
                Some(at) => {
                    let days = (at - Utc::now()).num_days();
                    (
                        format!("expires in {days} days ({})", at.format("%Y-%m-%d")),
                        Some(days),
                    )
                }
            };
            let detail = format!(
                "{} ({from}) is valid for {} with {}; {}",
                principal.token_display_id.as_deref().unwrap_or("token"),
                principal.user_id,
                principal.permissions.names().join(","),
                expiry.0
            );
            match expiry.1 {
                Some(days) if days < 14 => Check::warn(
                    "token",
                    detail,
                    format!(
                        "create a new one soon with `mem0-mcp token create --user-id {}` (or `mem0-mcp init`) and revoke this one",
                        principal.user_id
                    ),
                ),
                _ => Check::pass("token", detail),
            }
        }
        Err(AuthError::Store(e)) => {
            let explained = e.problem();
            Check::fail("token", explained.what, explained.fix)
        }
        Err(e) => refused(&e),
    }
}

/// The token check when the credentials are refused: the cause, then the fix.
fn refused(error: &AuthError) -> Check {
    let Problem { what, fix } = error.problem();
    let what = what
        .strip_prefix("authentication failed ")
        .map(str::to_owned)
        .unwrap_or(what);
    Check::fail("token", what, fix)
}

/// The token check when no token is configured.
pub(super) fn missing_token_check(loaded: &Loaded, clients_configured: bool) -> Check {
    let settings = &loaded.settings;
    match &settings.database {
        DatabaseTarget::Sqlite(_) => Check::pass(
            "token",
            format!(
                "none, and none needed on the embedded database (the server acts as {})",
                crate::auth::acting::embedded_user(settings.user_id.as_deref())
            ),
        ),
        DatabaseTarget::Postgres(_) if clients_configured => Check::pass(
            "token",
            "not set in this shell; each client sets its own (checked below)",
        ),
        DatabaseTarget::Postgres(_) => Check::fail(
            "token",
            "MEM0_TOKEN is not set, and PostgreSQL requires one",
            "run `mem0-mcp init`, or create one with `mem0-mcp token create --user-id YOU` and set MEM0_TOKEN_FILE (or the keychain) and MEM0_USER_ID",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_show_the_cause_and_the_fix_apart() {
        let check = refused(&AuthError::Disabled {
            display_id: "mcp_x".into(),
        });
        assert_eq!(
            check.detail,
            "(disabled token): token mcp_x has been revoked"
        );
        assert_eq!(
            check.fix.as_deref(),
            Some("have it re-enabled with `mem0-mcp token enable mcp_x`, or create a new one")
        );
        assert!(!check.ok);
    }
}
