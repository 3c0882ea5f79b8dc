//! `init`'s database step: the embedded database (opened, so it exists owner-only) or a
//! PostgreSQL connection tested before anything else is set up (asked again on a terminal when
//! it fails), then the migrations; and at the end, if asked, the database recorded in
//! `mem0.config.json`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::secrets::{Known, known_password};
use super::{Setup, other, usage};

use crate::auth::acting::os_user_name;
use crate::cli::{ExitCode, Failure};
use crate::settings::config_file::{self as settings_file, EditError, Storage};
use crate::settings::pg_url::Parts;
use crate::settings::{self, DatabaseTarget, PgUrl, SQLITE_FILE, database};
use crate::store::{self, Stores};

/// How long a PostgreSQL connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The database init connected to.
#[derive(Debug)]
pub(super) enum Connection {
    Embedded {
        data_dir: PathBuf,
    },
    Postgres {
        /// As given; it goes anywhere only [`PgUrl::without_password`].
        url: PgUrl,
        password: Option<Known>,
        stores: Stores,
    },
}

/// Asks (or takes from the flags) which database to use, connects and migrates it.
pub(super) async fn connect(setup: &Setup<'_>) -> Result<Connection, Failure> {
    let args = setup.args;
    let postgres_flags = args.postgres_flags();
    let current_postgres = setup
        .current
        .is_some_and(|l| matches!(l.settings.database, DatabaseTarget::Postgres(_)));
    let default_kind = match (&args.database, postgres_flags || current_postgres) {
        (Some(kind), _) => kind.clone(),
        (None, true) => "postgres".into(),
        (None, false) => "embedded".into(),
    };
    let kind = if args.database.is_some() || postgres_flags {
        default_kind
    } else {
        if setup.ask.interactive() {
            eprintln!(
                "\nWhere should memories live? `embedded`: a SQLite file only you can read, nothing to set up. `postgres`: a PostgreSQL database a team can share."
            );
        }
        setup
            .ask
            .choose("Database", &["embedded", "postgres"], &default_kind)?
    };
    if kind == "postgres" {
        connect_postgres(setup).await
    } else {
        open_embedded(setup).await
    }
}

async fn open_embedded(setup: &Setup<'_>) -> Result<Connection, Failure> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let data_dir = match setup.flags.get("MEM0_DATA_DIR") {
        Some(dir) => cwd.join(dir),
        None => match setup.current {
            Some(loaded) => loaded.settings.data_dir.clone(),
            None => settings::default_data_dir()
                .ok_or_else(|| other("cannot find a data directory: pass --data-dir"))?,
        },
    };
    let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
    let path = data_dir.join(SQLITE_FILE);
    let target = DatabaseTarget::Sqlite(path.clone());
    let stores = store::open_all(&target, Duration::from_secs(10)).await?;
    let started = Instant::now();
    stores.memories.ping().await?;
    setup.report.done(
        "database",
        format!(
            "embedded SQLite at {} (readable by you only; {:.1} ms)",
            path.display(),
            started.elapsed().as_secs_f64() * 1000.0
        ),
    );
    migrate(setup, &stores).await?;
    Ok(Connection::Embedded { data_dir })
}

async fn migrate(setup: &Setup<'_>, stores: &Stores) -> Result<(), Failure> {
    let applied = stores.memories.migrate().await?;
    if applied.is_empty() {
        setup.report.done("schema", "already up to date");
    } else {
        let names: Vec<String> = applied
            .iter()
            .map(|m| format!("{}_{}", m.version, m.name))
            .collect();
        setup
            .report
            .done("schema", format!("applied {}", names.join(", ")));
    }
    Ok(())
}

/// A URL composed from `--db-*` flags the way the server composes `MEM0_DB_*`, the parts not
/// given taking init's defaults.
fn url_from_parts(setup: &Setup<'_>) -> Result<Option<String>, Failure> {
    let args = setup.args;
    if args.db_host.is_none()
        && args.db_port.is_none()
        && args.db_name.is_none()
        && args.db_user.is_none()
    {
        return Ok(None);
    }
    let port = args.db_port.unwrap_or(5432).to_string();
    let user = args.db_user.clone().unwrap_or_else(os_user_name);
    let url = database::compose_url(Parts {
        host: Some(args.db_host.as_deref().unwrap_or("127.0.0.1")),
        port: Some(&port),
        database: Some(args.db_name.as_deref().unwrap_or("mem0")),
        user: Some(&user),
    })?;
    Ok(Some(url.without_password().to_owned()))
}

async fn connect_postgres(setup: &Setup<'_>) -> Result<Connection, Failure> {
    let (args, ask) = (setup.args, setup.ask);
    let from_flags = match &args.database_url {
        Some(url) => Some(url.clone()),
        None => url_from_parts(setup)?,
    };
    let from_settings = setup.current.and_then(|l| match &l.settings.database {
        DatabaseTarget::Postgres(url) => Some(url.without_password().to_owned()),
        DatabaseTarget::Sqlite(_) => None,
    });
    let mut default_url = from_flags
        .clone()
        .or(from_settings)
        .unwrap_or_else(|| format!("postgresql://{}@127.0.0.1:5432/mem0", os_user_name()));
    let mut password = known_password(setup)?;
    let mut explained_url = false;
    loop {
        let Some(url) = ask_url(
            setup,
            from_flags.as_deref(),
            &default_url,
            &mut explained_url,
        )?
        else {
            continue;
        };
        if let Some(typed) = url.password() {
            password = Some(Known {
                value: typed.clone(),
                stored: None,
            });
        }
        if password.is_none() && ask.interactive() {
            let typed = ask.secret(
                "Password (input hidden; leave empty for none: peer, trust or certificate authentication)",
            )?;
            if !typed.is_empty() {
                password = Some(Known {
                    value: settings::Secret::new(typed),
                    stored: None,
                });
            }
        }
        match try_connect(setup, &url, password.as_ref()).await {
            Ok(stores) => {
                migrate(setup, &stores).await?;
                return Ok(Connection::Postgres {
                    url,
                    password,
                    stores,
                });
            }
            Err(failure) => {
                if ask.interactive() && ask.confirm("Try other connection settings?", true)? {
                    default_url = url.without_password().to_owned();
                    // A password typed for the failed attempt may be the problem: ask again.
                    if password.as_ref().is_some_and(|p| p.stored.is_none())
                        && !args.db_password_stdin
                    {
                        password = None;
                    }
                    continue;
                }
                return Err(failure);
            }
        }
    }
}

/// The URL from the flags, or asked for; `None` when what was typed is no PostgreSQL URL and
/// the question is asked again.
fn ask_url(
    setup: &Setup<'_>,
    from_flags: Option<&str>,
    default_url: &str,
    explained: &mut bool,
) -> Result<Option<PgUrl>, Failure> {
    let ask = setup.ask;
    let text = match from_flags {
        Some(url) => url.to_owned(),
        None => {
            if ask.interactive() && !*explained {
                eprintln!(
                    "\nThe PostgreSQL connection, as a URL without the password: postgresql://USER@HOST:PORT/DATABASE (postgresql:///DATABASE?host=/var/run/postgresql for the local socket). The database must exist (createdb mem0)."
                );
                *explained = true;
            }
            ask.ask("PostgreSQL URL", default_url)?
        }
    };
    match PgUrl::parse(text.trim()) {
        Ok(url) => Ok(Some(url)),
        Err(other) => {
            let message = format!(
                "'{}' is not a PostgreSQL URL: it starts with postgresql://",
                other.described
            );
            if ask.interactive() && from_flags.is_none() {
                eprintln!("{message}");
                return Ok(None);
            }
            Err(usage(message))
        }
    }
}

/// Connects with the password (if any), saying how it went.
async fn try_connect(
    setup: &Setup<'_>,
    url: &PgUrl,
    password: Option<&Known>,
) -> Result<Stores, Failure> {
    let described = url.describe();
    let full = match password {
        Some(known) => url.with_password(&known.value, &url.user().unwrap_or_else(os_user_name)),
        None => url.clone(),
    };
    match test_connection(&DatabaseTarget::Postgres(full)).await {
        Ok((stores, latency)) => {
            setup.report.done(
                "database",
                format!(
                    "PostgreSQL at {described} reachable ({:.1} ms)",
                    latency.as_secs_f64() * 1000.0
                ),
            );
            Ok(stores)
        }
        Err(failure) => {
            setup.report.problem(
                "database",
                format!("PostgreSQL at {described}: {}", failure.message),
            );
            Err(failure)
        }
    }
}

/// Connects and makes one round trip, with a time limit.
async fn test_connection(target: &DatabaseTarget) -> Result<(Stores, Duration), Failure> {
    let attempt = async {
        let stores = store::open_all(target, Duration::from_secs(10)).await?;
        stores.memories.ping().await?;
        let started = Instant::now();
        stores.memories.ping().await?;
        Ok::<_, store::StoreError>((stores, started.elapsed()))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(Failure::new(ExitCode::Database, e.problem().sentence())),
        Err(_) => Err(Failure::new(
            ExitCode::Database,
            format!(
                "no answer within {} s: check the host and port, and that a firewall lets the connection through",
                CONNECT_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// Asks (PostgreSQL only: the embedded database is the default anyway) or takes
/// `--write-config`, and records the database in the config directory's mem0.config.json,
/// keeping every other key. Returns whether it did.
pub(super) fn write_config_file(
    setup: &Setup<'_>,
    connection: &Connection,
) -> Result<bool, Failure> {
    let path = setup.config_dir.join(settings_file::FILE_NAME);
    let storage = match connection {
        Connection::Postgres { url, .. } => Storage::Postgres(url),
        Connection::Embedded { .. } => Storage::Sqlite,
    };
    let wanted = setup.args.write_config
        || (setup.ask.interactive()
            && matches!(storage, Storage::Postgres(_))
            && setup.ask.confirm(
                &format!(
                    "\nWrite {} so that mem0-mcp commands in your shell use this database too?",
                    path.display()
                ),
                false,
            )?);
    if !wanted {
        return Ok(false);
    }
    let shown = path.display();
    let written = settings_file::write_storage(&path, storage).map_err(|e| match e {
        EditError::NotAnObject => other(format!(
            "{shown} is not a JSON object, so init leaves it alone: fix or remove it, then run init again"
        )),
        EditError::StorageNotAnObject => other(format!(
            "\"storage\" in {shown} is not an object: fix it, then run init again"
        )),
        EditError::Unreadable(e) => other(format!("cannot read {shown}: {e}")),
        EditError::Invalid(e) => other(format!(
            "{shown} would not be a valid config file ({e}); it was left as it was"
        )),
        EditError::Unwritable(e) => other(format!("cannot write {shown}: {e}")),
    })?;
    let what = match written {
        crate::files::Written::Created => "written".to_string(),
        crate::files::Written::Replaced { backup } => {
            format!("updated (previous version kept as {})", backup.display())
        }
        crate::files::Written::Unchanged => "already up to date".to_string(),
    };
    setup.report.done("config", format!("{shown} {what}"));
    Ok(true)
}
