//! `mem0-mcp init`: from nothing to a working client in one command. It picks the database
//! (embedded, or PostgreSQL after testing the connection), applies the migrations, makes sure the
//! user has a working token (PostgreSQL), stores the secrets in the OS keychain or in owner-only
//! files in the config directory, optionally writes `mem0.config.json`, checks that the
//! configuration it built really starts, and writes or prints each client's configuration.
//!
//! On a terminal it asks, with a default for every question; every answer also has a flag, and
//! `--yes` takes the defaults so it runs unattended. Running it again is safe: a stored token
//! that still works is kept, migrations are idempotent, and a file is only replaced (after a
//! backup next to it) when its content changes.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;

use super::client_config::describe_outcome;
use super::migrate::{database_failure, explain};
use super::prompt::Prompter;
use super::serve::os_user_name;
use super::style::Style;
use super::token::{TokenRequest, issue};
use super::{ExitCode, Failure};
use crate::auth::{self, Credentials, Token};
use crate::clients::config_file;
use crate::clients::{
    Client, DEFAULT_SERVER_NAME, Dirs, Launch, claude_add_command, current_binary,
};
use crate::files::{self, Access, Written};
use crate::memory::Permissions;
use crate::settings::keychain::Lookup;
use crate::settings::sources::{Raw, Resolved};
use crate::settings::{
    self, DatabaseTarget, Environment, Flags, Keychain, PgUrl, SQLITE_FILE, Secret, SecretName,
    Source, config_file as settings_file, database, pg_url, secret_file,
};
use crate::store::{self, Stores};
use secret_file::{PASSWORD_FILE, TOKEN_FILE};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mem0-mcp init                                   ask, with a default for every question
  mem0-mcp init --yes                             the embedded database, clients found here
  mem0-mcp init --yes --database postgres --database-url postgresql://me@db:5432/mem0 \\
      --client claude-desktop --user-id me@example.com
  printf %s \"$PW\" | mem0-mcp init --yes --database-url postgresql://me@db/mem0 --db-password-stdin

Secrets (the token, a database password) go to the OS keychain when one is usable, else to
owner-only files in the config directory (~/.config/mem0/token, ~/.config/mem0/db-password)
that the client configuration references through MEM0_TOKEN_FILE / MEM0_DB_PASSWORD_FILE.
A file that changes is first copied to <file>.bak-<timestamp>. Running init again is safe.")]
pub struct InitArgs {
    /// Accept the default for every question (needed when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Which database to use
    #[arg(long, value_name = "KIND", value_parser = ["embedded", "postgres"])]
    pub database: Option<String>,
    /// The PostgreSQL URL, without a password (postgresql://USER@HOST:5432/DATABASE)
    #[arg(long, value_name = "URL", conflicts_with_all = ["db_host", "db_port", "db_name", "db_user"])]
    pub database_url: Option<String>,
    /// PostgreSQL host (a directory for a local socket)
    #[arg(long, value_name = "HOST")]
    pub db_host: Option<String>,
    #[arg(long, value_name = "PORT")]
    pub db_port: Option<u16>,
    /// PostgreSQL database name
    #[arg(long, value_name = "NAME")]
    pub db_name: Option<String>,
    /// PostgreSQL user
    #[arg(long, value_name = "USER")]
    pub db_user: Option<String>,
    /// Read the database password from stdin (never give it on the command line)
    #[arg(long)]
    pub db_password_stdin: bool,
    /// Configure this client (repeatable): claude-desktop, vscode, claude-code, cursor
    #[arg(long = "client", value_name = "CLIENT", value_parser = clap::builder::PossibleValuesParser::new(Client::NAMES))]
    pub clients: Vec<String>,
    /// Configure no client
    #[arg(long, conflicts_with = "clients")]
    pub no_client: bool,
    /// Print the client configurations instead of writing them into the clients' files
    #[arg(long)]
    pub print: bool,
    /// Also write mem0.config.json in the config directory, so commands in your shell use the same database
    #[arg(long)]
    pub write_config: bool,
    /// Where to store secrets: the OS keychain, owner-only files, or the keychain when usable
    #[arg(long, value_name = "WHERE", value_parser = ["auto", "keychain", "file"], default_value = "auto")]
    pub secrets: String,
}

/// Where a secret lives once init is done.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stored {
    Keychain,
    File(PathBuf),
}

/// A secret known to init, and whether it still has to be stored.
#[derive(Debug, Clone)]
struct Known {
    value: Secret,
    stored: Option<Stored>,
}

/// Lines for stdout: what init did, one step each.
#[derive(Debug)]
struct Report {
    style: Style,
}

impl Report {
    fn line(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.as_ref());
        let _ = out.flush();
    }

    fn done(&self, what: &str, detail: impl AsRef<str>) {
        self.line(format!(
            "{} {}: {}",
            self.style.pass(),
            self.style.bold(what),
            detail.as_ref()
        ));
    }

    fn problem(&self, what: &str, detail: impl AsRef<str>) {
        self.line(format!(
            "{} {}: {}",
            self.style.fail(),
            self.style.bold(what),
            detail.as_ref()
        ));
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(ExitCode::Usage, message)
}

fn other(message: impl Into<String>) -> Failure {
    Failure::new(ExitCode::Other, message)
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn run(args: &InitArgs, flags: &Flags, keychain: &Keychain) -> Result<(), Failure> {
    let interactive = !args.yes && std::io::stdin().is_terminal();
    if !args.yes && !interactive {
        return Err(usage(
            "init asks questions on a terminal: pass --yes to accept the defaults (and flags such as --database, --client for the rest) when running it from a script",
        ));
    }
    if let Some(url) = &args.database_url
        && pg_url::has_password(url)
    {
        return Err(usage(
            "--database-url holds a password, and command lines are visible to every user of this machine: give the URL without it and pass the password with --db-password-stdin, or type it at init's prompt",
        ));
    }
    let postgres_flags = args.database_url.is_some()
        || args.db_host.is_some()
        || args.db_port.is_some()
        || args.db_name.is_some()
        || args.db_user.is_some()
        || args.db_password_stdin;
    if args.database.as_deref() == Some("embedded") && postgres_flags {
        return Err(usage(
            "--database embedded does not take PostgreSQL settings (--database-url, --db-*): drop them, or use --database postgres",
        ));
    }
    let ask = Prompter::new(interactive);
    let report = Report {
        style: Style::stdout(),
    };
    let config_dir = settings_file::config_dir()
        .ok_or_else(|| other("cannot find your home directory: set HOME"))?;
    let dirs = Dirs::current().ok_or_else(|| other("cannot find your home directory: set HOME"))?;
    // What is configured already gives the defaults; a broken setting is no reason to stop.
    let current = match settings::load(flags, keychain) {
        Ok(loaded) => Some(loaded),
        Err(e) => {
            eprintln!(
                "Note: the current settings cannot be used ({e}); init starts from the defaults."
            );
            None
        }
    };
    if interactive {
        eprintln!(
            "Setting up mem0-mcp. Press Enter to take the answer in [brackets]; Ctrl-C stops without changing anything more."
        );
    }

    // 1. The database.
    let current_postgres = current
        .as_ref()
        .is_some_and(|l| matches!(l.settings.database, DatabaseTarget::Postgres(_)));
    let default_kind = match (&args.database, postgres_flags || current_postgres) {
        (Some(kind), _) => kind.clone(),
        (None, true) => "postgres".into(),
        (None, false) => "embedded".into(),
    };
    let kind = if args.database.is_some() || postgres_flags {
        default_kind
    } else {
        if interactive {
            eprintln!(
                "\nWhere should memories live? `embedded`: a SQLite file only you can read, nothing to set up. `postgres`: a PostgreSQL database a team can share."
            );
        }
        ask.choose("Database", &["embedded", "postgres"], &default_kind)?
    };
    let connection = if kind == "postgres" {
        connect_postgres(args, &ask, &report, current.as_ref(), &config_dir, keychain).await?
    } else {
        open_embedded(&report, flags, current.as_ref()).await?
    };

    // 2. The user.
    let token_owner = match &connection {
        Connection::Postgres { stores, .. } => {
            stored_token_owner(stores, current.as_ref(), &config_dir, keychain).await
        }
        Connection::Embedded { .. } => None,
    };
    let default_user = flags
        .get("MEM0_USER_ID")
        .cloned()
        .or_else(|| current.as_ref().and_then(|l| l.settings.user_id.clone()))
        .or(token_owner)
        .unwrap_or_else(os_user_name);
    let user_id = if flags.contains_key("MEM0_USER_ID") {
        default_user
    } else {
        if interactive {
            eprintln!(
                "\nYour user id keeps your memories apart from everyone else's (an e-mail address works well)."
            );
        }
        ask.ask("User id", &default_user)?
    };
    settings::validate_user_id(&user_id)?;
    if user_id.trim().is_empty() {
        return Err(usage("the user id cannot be empty"));
    }

    // 3. Where secrets go.
    let secrets_mode = secrets_mode(args, &ask, keychain)?;

    // 4. The token (PostgreSQL requires one; the embedded database is its owner's).
    let mut launch = Launch::new(current_binary());
    let mut stored_token: Option<Stored> = None;
    if let Connection::Postgres {
        url,
        password,
        stores,
        ..
    } = &connection
    {
        let token = ensure_token(
            &report,
            stores,
            &user_id,
            current.as_ref(),
            &config_dir,
            keychain,
        )
        .await?;
        let token_place = match &token.stored {
            Some(place) => place.clone(),
            None => store_secret(
                &report,
                SecretName::Token,
                &token.value,
                &secrets_mode,
                &config_dir.join(TOKEN_FILE),
                keychain,
            )?,
        };
        let password_place = match password {
            Some(Known {
                stored: Some(place),
                ..
            }) => Some(place.clone()),
            Some(known) => Some(store_secret(
                &report,
                SecretName::DbPassword,
                &known.value,
                &secrets_mode,
                &config_dir.join(PASSWORD_FILE),
                keychain,
            )?),
            None => None,
        };
        launch.set("MEM0_DATABASE_URL", url.as_str());
        if let Some(Stored::File(path)) = &password_place {
            launch.set("MEM0_DB_PASSWORD_FILE", path.display().to_string());
        }
        if let Stored::File(path) = &token_place {
            launch.set("MEM0_TOKEN_FILE", path.display().to_string());
        }
        stored_token = Some(token_place);
    }
    launch.set("MEM0_USER_ID", user_id.as_str());
    if let Connection::Embedded { data_dir, .. } = &connection
        && settings::default_data_dir().as_deref() != Some(data_dir.as_path())
    {
        launch.set("MEM0_DATA_DIR", data_dir.display().to_string());
    }

    // 5. The configuration a client will use must really work: load it the way the server will.
    verify_launch(&report, &launch, &dirs.home, &config_dir, keychain).await?;

    // 6. mem0.config.json, if asked.
    // The embedded database is the default anyway; a file only helps a PostgreSQL setup.
    let is_postgres = matches!(connection, Connection::Postgres { .. });
    let write_config = args.write_config
        || (interactive
            && is_postgres
            && ask.confirm(
                &format!(
                    "\nWrite {} so that mem0-mcp commands in your shell use this database too?",
                    config_dir.join(settings_file::FILE_NAME).display()
                ),
                false,
            )?);
    if write_config {
        write_config_file(&report, &config_dir, &connection)?;
    }

    // 7. The clients.
    let clients = choose_clients(args, &ask, &dirs)?;
    if clients.is_empty() {
        report.line(
            "No client configured: `mem0-mcp client-config --client NAME` prints a configuration, `--write` adds it.",
        );
    }
    for client in &clients {
        configure_client(*client, args, &ask, &report, &dirs, &launch)?;
    }

    // 8. What now.
    report.line("");
    if !clients.is_empty() {
        let hints: Vec<String> = clients
            .iter()
            .map(|c| c.restart_hint().to_string())
            .collect();
        report.line(format!("Done. Next: {}.", hints.join("; ")));
    } else {
        report.line("Done.");
    }
    if matches!(connection, Connection::Postgres { .. }) {
        let mut exports = vec![format!(
            "export MEM0_USER_ID={}",
            crate::clients::shell_quote(&user_id)
        )];
        if let Some(Stored::File(path)) = &stored_token {
            exports.push(format!(
                "export MEM0_TOKEN_FILE={}",
                crate::clients::shell_quote(&path.display().to_string())
            ));
        }
        if !write_config && let Some(url) = launch.get("MEM0_DATABASE_URL") {
            exports.push(format!(
                "export MEM0_DATABASE_URL={}",
                crate::clients::shell_quote(url)
            ));
        }
        if let Some(path) = launch.get("MEM0_DB_PASSWORD_FILE") {
            exports.push(format!(
                "export MEM0_DB_PASSWORD_FILE={}",
                crate::clients::shell_quote(path)
            ));
        }
        report.line(format!(
            "To use the same settings in your shell (token list, token mint), add to ~/.bashrc or ~/.zshrc:\n  {}",
            exports.join("\n  ")
        ));
    }
    report.line("`mem0-mcp doctor` checks the whole setup at any time.");
    Ok(())
}

/// The database init connected to.
#[derive(Debug)]
enum Connection {
    Embedded {
        data_dir: PathBuf,
    },
    Postgres {
        /// Without the password.
        url: String,
        password: Option<Known>,
        stores: Stores,
    },
}

async fn open_embedded(
    report: &Report,
    flags: &Flags,
    current: Option<&settings::Loaded>,
) -> Result<Connection, Failure> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let data_dir = match flags.get("MEM0_DATA_DIR") {
        Some(dir) => cwd.join(dir),
        None => match current {
            Some(loaded) => loaded.settings.data_dir.clone(),
            None => settings::default_data_dir()
                .ok_or_else(|| other("cannot find a data directory: pass --data-dir"))?,
        },
    };
    let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
    let path = data_dir.join(SQLITE_FILE);
    let target = DatabaseTarget::Sqlite(path.clone());
    let stores = store::open_all(&target, Duration::from_secs(10))
        .await
        .map_err(database_failure)?;
    let started = Instant::now();
    stores.memories.ping().await.map_err(database_failure)?;
    report.done(
        "database",
        format!(
            "embedded SQLite at {} (readable by you only; {:.1} ms)",
            path.display(),
            started.elapsed().as_secs_f64() * 1000.0
        ),
    );
    migrate(report, &stores).await?;
    Ok(Connection::Embedded { data_dir })
}

async fn migrate(report: &Report, stores: &Stores) -> Result<(), Failure> {
    let applied = stores.memories.migrate().await.map_err(database_failure)?;
    if applied.is_empty() {
        report.done("schema", "already up to date");
    } else {
        let names: Vec<String> = applied
            .iter()
            .map(|m| format!("{}_{}", m.version, m.name))
            .collect();
        report.done("schema", format!("applied {}", names.join(", ")));
    }
    Ok(())
}

/// A URL composed from `--db-*` flags the way the server composes `MEM0_DB_*`.
fn url_from_parts(args: &InitArgs) -> Result<Option<String>, Failure> {
    let parts = [
        ("MEM0_DB_HOST", args.db_host.clone()),
        ("MEM0_DB_PORT", args.db_port.map(|p| p.to_string())),
        ("MEM0_DB_NAME", args.db_name.clone()),
        ("MEM0_DB_USER", args.db_user.clone()),
    ];
    if parts.iter().all(|(_, v)| v.is_none()) {
        return Ok(None);
    }
    let mut resolved = Resolved::default();
    let defaults = [
        ("MEM0_DB_HOST", "127.0.0.1".to_string()),
        ("MEM0_DB_PORT", "5432".to_string()),
        ("MEM0_DB_NAME", "mem0".to_string()),
        ("MEM0_DB_USER", os_user_name()),
    ];
    for ((name, value), (_, default)) in parts.into_iter().zip(defaults) {
        resolved
            .values
            .insert(name, (Raw::Plain(value.unwrap_or(default)), Source::Flag));
    }
    match database::target(&resolved, Path::new("/")) {
        Ok(DatabaseTarget::Postgres(url)) => Ok(Some(url.without_password().to_owned())),
        Ok(DatabaseTarget::Sqlite(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The password init already knows of, and where it is kept.
fn known_password(
    args: &InitArgs,
    current: Option<&settings::Loaded>,
    config_dir: &Path,
    keychain: &Keychain,
) -> Result<Option<Known>, Failure> {
    if args.db_password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| other(format!("cannot read the password from stdin: {e}")))?;
        let text = secret_file::trim_line_end(&text).to_owned();
        if text.is_empty() {
            return Err(usage(
                "--db-password-stdin was given but stdin was empty: pipe the password in",
            ));
        }
        return Ok(Some(Known {
            value: Secret::new(text),
            stored: None,
        }));
    }
    if let Some(loaded) = current {
        let resolved = &loaded.resolved;
        if let Some(password) = resolved.secret(SecretName::DbPassword) {
            let stored = match resolved.source(SecretName::DbPassword.env()) {
                Some(Source::File) => resolved
                    .secret_files
                    .get(SecretName::DbPassword.env())
                    .cloned()
                    .map(Stored::File),
                Some(Source::Keychain) => Some(Stored::Keychain),
                _ => None,
            };
            return Ok(Some(Known {
                value: password,
                stored,
            }));
        }
        if let DatabaseTarget::Postgres(url) = &loaded.settings.database
            && let Some(password) = url.password()
        {
            return Ok(Some(Known {
                value: password.clone(),
                stored: None,
            }));
        }
    }
    let file = config_dir.join(PASSWORD_FILE);
    if let Ok(password) = secret_file::read(&file) {
        return Ok(Some(Known {
            value: password,
            stored: Some(Stored::File(file)),
        }));
    }
    if let Lookup::Found(password) = keychain.get(SecretName::DbPassword) {
        return Ok(Some(Known {
            value: password,
            stored: Some(Stored::Keychain),
        }));
    }
    Ok(None)
}

async fn connect_postgres(
    args: &InitArgs,
    ask: &Prompter,
    report: &Report,
    current: Option<&settings::Loaded>,
    config_dir: &Path,
    keychain: &Keychain,
) -> Result<Connection, Failure> {
    let from_flags = match &args.database_url {
        Some(url) => Some(url.clone()),
        None => url_from_parts(args)?,
    };
    let from_settings = current.and_then(|l| match &l.settings.database {
        DatabaseTarget::Postgres(url) => Some(url.without_password().to_owned()),
        DatabaseTarget::Sqlite(_) => None,
    });
    let mut default_url = from_flags
        .clone()
        .or(from_settings)
        .unwrap_or_else(|| format!("postgresql://{}@127.0.0.1:5432/mem0", os_user_name()));
    let mut password = known_password(args, current, config_dir, keychain)?;
    let mut explained_url = false;
    loop {
        let url = match &from_flags {
            Some(url) => url.clone(),
            None => {
                if ask.interactive() && !explained_url {
                    eprintln!(
                        "\nThe PostgreSQL connection, as a URL without the password: postgresql://USER@HOST:PORT/DATABASE (postgresql:///DATABASE?host=/var/run/postgresql for the local socket). The database must exist (createdb mem0)."
                    );
                    explained_url = true;
                }
                ask.ask("PostgreSQL URL", &default_url)?
            }
        };
        let url = match PgUrl::parse(url.trim()) {
            Ok(url) => url,
            Err(other) => {
                let message = format!(
                    "'{}' is not a PostgreSQL URL: it starts with postgresql://",
                    other.described
                );
                if ask.interactive() && from_flags.is_none() {
                    eprintln!("{message}");
                    continue;
                }
                return Err(usage(message));
            }
        };
        let safe_url = url.without_password().to_owned();
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
                    value: Secret::new(typed),
                    stored: None,
                });
            }
        }
        let described = url.describe();
        let full = match &password {
            Some(known) => {
                url.with_password(&known.value, &url.user().unwrap_or_else(os_user_name))
            }
            None => url,
        };
        let target = DatabaseTarget::Postgres(full);
        match test_connection(&target).await {
            Ok((stores, latency)) => {
                report.done(
                    "database",
                    format!(
                        "PostgreSQL at {described} reachable ({:.1} ms)",
                        latency.as_secs_f64() * 1000.0
                    ),
                );
                migrate(report, &stores).await?;
                return Ok(Connection::Postgres {
                    url: safe_url,
                    password,
                    stores,
                });
            }
            Err(failure) => {
                report.problem(
                    "database",
                    format!("PostgreSQL at {described}: {}", failure.message),
                );
                if ask.interactive() && ask.confirm("Try other connection settings?", true)? {
                    default_url = safe_url;
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
        Ok(Err(e)) => Err(Failure::new(ExitCode::Database, explain(&e).sentence())),
        Err(_) => Err(Failure::new(
            ExitCode::Database,
            format!(
                "no answer within {} s: check the host and port, and that a firewall lets the connection through",
                CONNECT_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// `keychain` or `file`.
fn secrets_mode(args: &InitArgs, ask: &Prompter, keychain: &Keychain) -> Result<String, Failure> {
    match args.secrets.as_str() {
        "keychain" => {
            keychain.availability().map_err(|reason| {
                other(format!(
                    "--secrets keychain, but the OS keychain cannot be used ({reason}): {}; or use --secrets file",
                    settings::keychain::INSTALL_HINT
                ))
            })?;
            Ok("keychain".into())
        }
        "file" => Ok("file".into()),
        _ => match keychain.availability() {
            Ok(()) => {
                let keep = ask.confirm(
                    "\nKeep secrets (the token, a database password) in the OS keychain? Otherwise they go to owner-only files in the config directory",
                    true,
                )?;
                Ok(if keep { "keychain" } else { "file" }.into())
            }
            Err(_) => Ok("file".into()),
        },
    }
}

/// Stores a secret where `mode` says; falls back from an unusable keychain to a file (saying
/// so) unless the keychain was asked for explicitly.
fn store_secret(
    report: &Report,
    name: SecretName,
    value: &Secret,
    mode: &str,
    file: &Path,
    keychain: &Keychain,
) -> Result<Stored, Failure> {
    if mode == "keychain" {
        let stored = keychain
            .set(name, value)
            .and_then(|()| match keychain.get(name) {
                Lookup::Found(read) if read == *value => Ok(()),
                Lookup::Found(_) => Err("it reads back a different value".into()),
                Lookup::Missing => Err("it does not keep the value".into()),
                Lookup::Unavailable(reason) => Err(reason),
            });
        match stored {
            Ok(()) => {
                report.done(
                    name.cli_name(),
                    format!(
                        "stored in the OS keychain (service {}, account mem0); the server reads it from there",
                        name.keychain_service()
                    ),
                );
                return Ok(Stored::Keychain);
            }
            Err(reason) => {
                eprintln!(
                    "Note: the OS keychain did not take the {} ({reason}); writing it to an owner-only file instead.",
                    name.cli_name()
                );
            }
        }
    }
    let written = files::write(
        file,
        format!("{}\n", value.expose()).as_bytes(),
        Access::Private,
    )
    .map_err(|e| other(format!("cannot write {}: {e}", file.display())))?;
    let note = match written {
        Written::Replaced { backup } => {
            format!(" (the previous one is kept as {})", backup.display())
        }
        _ => String::new(),
    };
    report.done(
        name.cli_name(),
        format!(
            "written to {} (readable by you only){note}; clients reference it through {}_FILE, no keychain being used",
            file.display(),
            name.env()
        ),
    );
    Ok(Stored::File(file.to_path_buf()))
}

/// The tokens stored where init keeps them (its file, the keychain) and the one in effect.
fn stored_tokens(
    current: Option<&settings::Loaded>,
    config_dir: &Path,
    keychain: &Keychain,
) -> Vec<Known> {
    let mut candidates: Vec<Known> = Vec::new();
    let file = config_dir.join(TOKEN_FILE);
    if let Ok(token) = secret_file::read(&file) {
        candidates.push(Known {
            value: token,
            stored: Some(Stored::File(file)),
        });
    }
    if let Lookup::Found(token) = keychain.get(SecretName::Token) {
        candidates.push(Known {
            value: token,
            stored: Some(Stored::Keychain),
        });
    }
    if let Some(loaded) = current
        && let Some(token) = &loaded.settings.token
    {
        let stored = match loaded.resolved.source(SecretName::Token.env()) {
            Some(Source::File) => loaded
                .resolved
                .secret_files
                .get(SecretName::Token.env())
                .cloned()
                .map(Stored::File),
            Some(Source::Keychain) => Some(Stored::Keychain),
            _ => None,
        };
        candidates.push(Known {
            value: token.clone(),
            stored,
        });
    }
    candidates
}

/// The user a stored, still usable token belongs to: the natural default on a second run.
async fn stored_token_owner(
    stores: &Stores,
    current: Option<&settings::Loaded>,
    config_dir: &Path,
    keychain: &Keychain,
) -> Option<String> {
    for candidate in stored_tokens(current, config_dir, keychain) {
        let Ok(token) = Token::parse(candidate.value.expose()) else {
            continue;
        };
        if let Ok(Some(record)) = stores.tokens.token_by_hash(&token.hash()).await
            && record.status(chrono::Utc::now()) == crate::store::TokenStatus::Enabled
        {
            return Some(record.user_id);
        }
    }
    None
}

/// A token for `user_id` that works: a stored one that still validates, else a new one.
async fn ensure_token(
    report: &Report,
    stores: &Stores,
    user_id: &str,
    current: Option<&settings::Loaded>,
    config_dir: &Path,
    keychain: &Keychain,
) -> Result<Known, Failure> {
    let candidates = stored_tokens(current, config_dir, keychain);
    let mut rejected = Vec::new();
    for candidate in candidates {
        // Only database tokens are kept: a minted JWT expires by itself.
        if Token::parse(candidate.value.expose()).is_err() {
            continue;
        }
        let credentials = Credentials {
            token: Some(&candidate.value),
            user_id: Some(user_id),
            jwt_secret: None,
        };
        match auth::verify(stores.tokens.as_ref(), credentials, false).await {
            Ok(done) => {
                report.done(
                    "token",
                    format!(
                        "keeping {} for {} (still valid{})",
                        done.token.token_prefix,
                        user_id,
                        done.token
                            .expires_at
                            .map(|at| format!(", expires {}", at.format("%Y-%m-%d")))
                            .unwrap_or_default()
                    ),
                );
                return Ok(candidate);
            }
            Err(auth::AuthError::Store(e)) => return Err(database_failure(e)),
            Err(e) => rejected.push(e.to_string()),
        }
    }
    let request = TokenRequest {
        user_id: user_id.to_owned(),
        name: Some(format!("mem0-mcp init on {}", host_name())),
        email: None,
        expires_days: 365,
        permissions: Permissions::READ_WRITE,
        created_by: None,
    };
    let (token, record) = issue(stores.tokens.as_ref(), &request).await?;
    let why = if rejected.is_empty() {
        String::new()
    } else {
        " (the stored one no longer works)".into()
    };
    report.done(
        "token",
        format!(
            "created {} for {user_id}{why}: read,write, expires {}",
            record.token_prefix,
            record
                .expires_at
                .map(|at| at.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "never".into())
        ),
    );
    Ok(Known {
        value: Secret::new(token.expose()),
        stored: None,
    })
}

fn host_name() -> String {
    whoami::hostname().unwrap_or_else(|_| "this machine".into())
}

/// Loads the settings a client will start the server with (only the variables `launch` sets,
/// from the home directory, as Claude Desktop does) and checks the database and the token.
async fn verify_launch(
    report: &Report,
    launch: &Launch,
    home: &Path,
    config_dir: &Path,
    keychain: &Keychain,
) -> Result<(), Failure> {
    let env: Environment = launch.env.iter().cloned().collect();
    let broken = |why: String| {
        other(format!(
            "the client configuration init built does not work ({why}); nothing was written to the clients: run `mem0-mcp doctor` for details"
        ))
    };
    let loaded = settings::load_from(&Flags::new(), &env, home, Some(config_dir), keychain)
        .map_err(|e| broken(e.to_string()))?;
    let stores = store::open_all(&loaded.settings.database, loaded.settings.timeout)
        .await
        .map_err(|e| broken(explain(&e).sentence()))?;
    stores
        .memories
        .ping()
        .await
        .map_err(|e| broken(explain(&e).sentence()))?;
    if loaded.settings.token.is_some() {
        let credentials = Credentials {
            token: loaded.settings.token.as_ref(),
            user_id: loaded.settings.user_id.as_deref(),
            jwt_secret: loaded.settings.jwt_secret.as_ref(),
        };
        auth::verify(stores.tokens.as_ref(), credentials, false)
            .await
            .map_err(|e| broken(e.to_string()))?;
    } else if matches!(loaded.settings.database, DatabaseTarget::Postgres(_)) {
        return Err(broken("the server would find no token".into()));
    }
    report.done(
        "check",
        "a server started with the client configuration finds the database and your credentials",
    );
    Ok(())
}

/// Sets `storage.type` (and `storage.database_url`, without a password) in the config
/// directory's mem0.config.json, keeping every other key.
fn write_config_file(
    report: &Report,
    config_dir: &Path,
    connection: &Connection,
) -> Result<(), Failure> {
    let path = config_dir.join(settings_file::FILE_NAME);
    let mut root = match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return Err(other(format!(
                    "{} is not a JSON object, so init leaves it alone: fix or remove it, then run init again",
                    path.display()
                )));
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(other(format!("cannot read {}: {e}", path.display()))),
    };
    let storage = root
        .entry("storage")
        .or_insert_with(|| serde_json::json!({}));
    let Some(storage) = storage.as_object_mut() else {
        return Err(other(format!(
            "\"storage\" in {} is not an object: fix it, then run init again",
            path.display()
        )));
    };
    match connection {
        Connection::Postgres { url, .. } => {
            storage.insert("type".into(), "database".into());
            storage.insert("database_url".into(), url.as_str().into());
        }
        Connection::Embedded { .. } => {
            storage.insert("type".into(), "sqlite".into());
            storage.remove("database_url");
        }
    }
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&serde_json::Value::Object(root)).unwrap_or_default()
    );
    settings_file::parse(&text, &path).map_err(|e| {
        other(format!(
            "{} would not be a valid config file ({e}); it was left as it was",
            path.display()
        ))
    })?;
    let written = files::write(&path, text.as_bytes(), Access::Keep)
        .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
    let what = match written {
        Written::Created => "written".to_string(),
        Written::Replaced { backup } => {
            format!("updated (previous version kept as {})", backup.display())
        }
        Written::Unchanged => "already up to date".to_string(),
    };
    report.done("config", format!("{} {what}", path.display()));
    Ok(())
}

fn choose_clients(args: &InitArgs, ask: &Prompter, dirs: &Dirs) -> Result<Vec<Client>, Failure> {
    if args.no_client {
        return Ok(Vec::new());
    }
    if !args.clients.is_empty() {
        let mut chosen: Vec<Client> = args
            .clients
            .iter()
            .filter_map(|n| Client::from_name(n))
            .collect();
        chosen.dedup();
        return Ok(chosen);
    }
    let detected: Vec<Client> = Client::ALL
        .into_iter()
        .filter(|c| c.detected(dirs))
        .collect();
    if !ask.interactive() {
        return Ok(detected);
    }
    let default = if detected.is_empty() {
        "none".to_string()
    } else {
        detected
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(",")
    };
    eprintln!(
        "\nWhich clients should start mem0-mcp? {}",
        if detected.is_empty() {
            "None was found on this machine.".to_string()
        } else {
            format!("Found here: {}.", default)
        }
    );
    loop {
        let answer = ask.ask(
            "Clients (claude-desktop, vscode, claude-code, cursor; comma-separated, or none)",
            &default,
        )?;
        if answer.trim().eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        let mut chosen = Vec::new();
        let mut unknown = Vec::new();
        for name in answer
            .split([',', ' '])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match Client::from_name(&name.to_ascii_lowercase()) {
                Some(client) if !chosen.contains(&client) => chosen.push(client),
                Some(_) => {}
                None => unknown.push(name.to_owned()),
            }
        }
        if unknown.is_empty() {
            return Ok(chosen);
        }
        eprintln!(
            "Unknown client {}: use claude-desktop, vscode, claude-code or cursor.",
            unknown.join(", ")
        );
    }
}

fn configure_client(
    client: Client,
    args: &InitArgs,
    ask: &Prompter,
    report: &Report,
    dirs: &Dirs,
    launch: &Launch,
) -> Result<(), Failure> {
    let path = client.config_path(dirs);
    let write = !args.print
        && ask.confirm(
            &format!(
                "\nAdd the mem0 server to {}'s configuration {}?",
                client.title(),
                path.display()
            ),
            true,
        )?;
    let entry = client.entry(launch);
    if write {
        match config_file::write_entry(&path, client, DEFAULT_SERVER_NAME, &entry, Access::Keep) {
            Ok(outcome) => {
                report.done(
                    client.name(),
                    describe_outcome(DEFAULT_SERVER_NAME, &path, &outcome),
                );
                report.line(format!("  {}", report.style.dim(client.project_note())));
                if client == Client::ClaudeCode {
                    report.line(format!(
                        "  {}",
                        report.style.dim(&format!(
                            "The same with Claude Code's own command: {}",
                            claude_add_command(DEFAULT_SERVER_NAME, launch)
                        ))
                    ));
                }
                return Ok(());
            }
            Err(message) => report.problem(client.name(), message),
        }
    }
    let text = if client == Client::ClaudeCode {
        claude_add_command(DEFAULT_SERVER_NAME, launch)
    } else {
        serde_json::to_string_pretty(&client.snippet(DEFAULT_SERVER_NAME, launch))
            .unwrap_or_default()
    };
    report.line(format!("{} ({}):\n{text}", client.title(), path.display()));
    report.line(format!("  {}", report.style.dim(client.project_note())));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token file ending in two newlines used to pass the reuse step (which trimmed every
    /// newline) and then fail the launch check (which trims one, as the server does). Both read
    /// it through one reader now: the value keeps a newline, is no token, and a new one is made.
    #[test]
    fn a_token_file_ending_in_two_newlines_is_read_as_the_server_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let token = Token::generate().unwrap();
        std::fs::write(
            dir.path().join(TOKEN_FILE),
            format!("{}\n\n", token.expose()),
        )
        .unwrap();
        let keychain = Keychain::disabled("no keychain in this test");
        let candidates = stored_tokens(None, dir.path(), &keychain);
        assert_eq!(candidates.len(), 1);
        let read = candidates[0].value.expose();
        assert_eq!(read, format!("{}\n", token.expose()));
        assert!(Token::parse(read).is_err(), "not reused as a token");
        let server_reads = secret_file::read(&dir.path().join(TOKEN_FILE)).unwrap();
        assert_eq!(server_reads.expose(), read);
    }
}
