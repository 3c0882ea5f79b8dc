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
//!
//! With `--server URL` it joins a team server instead (`team`).
//!
//! The steps live in `database` (the connection, migrations, mem0.config.json), `secrets` (the
//! password and token, and where they are kept), `clients` (the launch check and each
//! client's configuration) and `report` (what is printed); this file runs them in order.

mod clients;
mod database;
mod report;
mod secrets;
mod team;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::prompt::Prompter;
use super::{ExitCode, Failure};
use crate::auth::acting::os_user_name;
use crate::clients::{Client, Dirs, Launch, current_binary};
use crate::settings::secret_file::{PASSWORD_FILE, TOKEN_FILE};
use crate::settings::sources::Kept;
use crate::settings::{self, Flags, Keychain, Loaded, SecretName, config_file as settings_file};
use database::Connection;
use report::{Outcome, Report};
use secrets::Known;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mem0-mcp init                                   ask, with a default for every question
  mem0-mcp init --yes                             the embedded database, clients found here
  mem0-mcp init --yes --database postgres --database-url postgresql://me@db:5432/mem0 \\
      --client claude-desktop --user-id me@example.com
  printf %s \"$PW\" | mem0-mcp init --yes --database-url postgresql://me@db/mem0 --db-password-stdin
  printf %s \"$TOKEN\" | mem0-mcp init --yes --server https://mem0.example.com/mcp/ --token-stdin \\
      --user-id me@example.com                    join a team server

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
    /// Join a team server at this MCP URL instead of setting up a database: your token is
    /// checked with it and the clients connect to it
    #[arg(long, value_name = "URL", conflicts_with_all = ["database", "database_url", "db_host", "db_port", "db_name", "db_user", "db_password_stdin", "write_config"])]
    pub server: Option<String>,
    /// With --server: read your token from stdin (never give it on the command line)
    #[arg(long, requires = "server")]
    pub token_stdin: bool,
}

impl InitArgs {
    /// Whether any PostgreSQL connection flag is given.
    fn postgres_flags(&self) -> bool {
        self.database_url.is_some()
            || self.db_host.is_some()
            || self.db_port.is_some()
            || self.db_name.is_some()
            || self.db_user.is_some()
            || self.db_password_stdin
    }
}

/// What every step of init works with.
#[derive(Debug)]
struct Setup<'a> {
    args: &'a InitArgs,
    flags: &'a Flags,
    ask: Prompter,
    report: Report,
    /// The settings in effect before init, when they load: they give the defaults.
    current: Option<&'a Loaded>,
    /// Where init keeps secret files and mem0.config.json.
    config_dir: PathBuf,
    keychain: &'a Keychain,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(ExitCode::Usage, message)
}

fn other(message: impl Into<String>) -> Failure {
    Failure::new(ExitCode::Other, message)
}

pub async fn run(args: &InitArgs, flags: &Flags, keychain: &Keychain) -> Result<(), Failure> {
    let interactive = check_args(args)?;
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
    let setup = Setup {
        args,
        flags,
        ask: Prompter::new(interactive),
        report: Report::stdout(),
        current: current.as_ref(),
        config_dir,
        keychain,
    };

    if let Some(url) = &args.server {
        return team::run(&setup, &dirs, url.trim()).await;
    }
    // 1. The database.
    let connection = database::connect(&setup).await?;
    // 2. The user.
    let user_id = choose_user(&setup, &connection).await?;
    // 3. Where secrets go, and 4. the token (PostgreSQL requires one; the embedded database is
    // its owner's).
    let place = secrets::place(args, &setup.ask, keychain)?;
    let (launch, token) = credentials(&setup, &connection, &user_id, place).await?;
    // 5. The configuration a client will use must really work: load it the way the server will.
    clients::verify_launch(
        &setup.report,
        &launch,
        &dirs.home,
        &setup.config_dir,
        keychain,
    )
    .await?;
    // 6. mem0.config.json, if asked.
    let wrote_config = database::write_config_file(&setup, &connection)?;
    // 7. The clients.
    let clients = clients::configure(&setup, &dirs, &launch)?;
    // 8. What now.
    report::next_steps(
        &setup.report,
        &Outcome {
            clients: &clients,
            postgres: matches!(connection, Connection::Postgres { .. }),
            user_id: &user_id,
            token: token.as_ref(),
            launch: &launch,
            wrote_config,
        },
    );
    Ok(())
}

/// Refuses flags that cannot work together; returns whether init may ask questions.
fn check_args(args: &InitArgs) -> Result<bool, Failure> {
    let interactive = !args.yes && std::io::stdin().is_terminal();
    if !args.yes && !interactive {
        return Err(usage(
            "init asks questions on a terminal: pass --yes to accept the defaults (and flags such as --database, --client for the rest) when running it from a script",
        ));
    }
    if let Some(url) = &args.database_url
        && settings::pg_url::has_password(url)
    {
        return Err(usage(
            "--database-url holds a password, and command lines are visible to every user of this machine: give the URL without it and pass the password with --db-password-stdin, or type it at init's prompt",
        ));
    }
    if args.database.as_deref() == Some("embedded") && args.postgres_flags() {
        return Err(usage(
            "--database embedded does not take PostgreSQL settings (--database-url, --db-*): drop them, or use --database postgres",
        ));
    }
    Ok(interactive)
}

/// The user id: `--user-id`, else asked with the one in effect (or a stored token's owner, or
/// the OS user name) as the default.
async fn choose_user(setup: &Setup<'_>, connection: &Connection) -> Result<String, Failure> {
    let token_owner = match connection {
        Connection::Postgres { stores, .. } => secrets::stored_token_owner(setup, stores).await,
        Connection::Embedded { .. } => None,
    };
    let default_user = setup
        .flags
        .get("MEM0_USER_ID")
        .cloned()
        .or_else(|| setup.current.and_then(|l| l.settings.user_id.clone()))
        .or(token_owner)
        .unwrap_or_else(os_user_name);
    let user_id = if setup.flags.contains_key("MEM0_USER_ID") {
        default_user
    } else {
        if setup.ask.interactive() {
            eprintln!(
                "\nYour user id keeps your memories apart from everyone else's (an e-mail address works well)."
            );
        }
        setup.ask.ask("User id", &default_user)?
    };
    settings::validate_user_id(&user_id)?;
    if user_id.trim().is_empty() {
        return Err(usage("the user id cannot be empty"));
    }
    Ok(user_id)
}

/// The launch a client needs, with the token (kept or created) and the password stored where
/// `place` says; returns where the token is kept (PostgreSQL only).
async fn credentials(
    setup: &Setup<'_>,
    connection: &Connection,
    user_id: &str,
    place: secrets::Place,
) -> Result<(Launch, Option<Kept>), Failure> {
    let mut launch = Launch::new(current_binary());
    let mut token_place = None;
    if let Connection::Postgres {
        url,
        password,
        stores,
    } = connection
    {
        let token = secrets::ensure_token(setup, stores, user_id).await?;
        let kept = match &token.stored {
            Some(kept) => kept.clone(),
            None => secrets::store(setup, SecretName::Token, &token.value, place, TOKEN_FILE)?,
        };
        let password_kept = match password {
            Some(Known {
                stored: Some(kept), ..
            }) => Some(kept.clone()),
            Some(known) => Some(secrets::store(
                setup,
                SecretName::DbPassword,
                &known.value,
                place,
                PASSWORD_FILE,
            )?),
            None => None,
        };
        launch.set("MEM0_DATABASE_URL", url.without_password());
        if let Some(Kept::File(path)) = &password_kept {
            launch.set("MEM0_DB_PASSWORD_FILE", path.display().to_string());
        }
        if let Kept::File(path) = &kept {
            launch.set("MEM0_TOKEN_FILE", path.display().to_string());
        }
        token_place = Some(kept);
    }
    launch.set("MEM0_USER_ID", user_id);
    if let Connection::Embedded { data_dir } = connection
        && settings::default_data_dir().as_deref() != Some(data_dir.as_path())
    {
        launch.set("MEM0_DATA_DIR", data_dir.display().to_string());
    }
    Ok((launch, token_place))
}
