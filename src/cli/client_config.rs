//! `mem0-mcp client-config --client NAME [--write]`: the configuration a client needs to start
//! this binary with the settings in effect here. Secrets are never pasted in clear unless
//! asked: a secret read from a file becomes its `NAME_FILE` reference, one in the keychain is
//! left out (the server reads the keychain itself), and one only in the environment gets a note
//! on how to store it. Without `--write` the snippet goes to stdout and the notes to stderr;
//! `--write` merges it into the client's file, keeping a backup.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{ExitCode, Failure};
use crate::clients::config_file::{self, Change};
use crate::clients::{Client, DEFAULT_SERVER_NAME, Dirs, Launch, claude_add_command};
use crate::files::{Access, Written};
use crate::settings::keys::{KEYS, Kind};
use crate::settings::{DatabaseTarget, Loaded, SQLITE_FILE, SecretName, Source, secret_file};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mem0-mcp client-config --client claude-desktop           print the snippet
  mem0-mcp client-config --client vscode --write           merge it into VS Code's user mcp.json
  mem0-mcp client-config --client vscode --write --path .vscode/mcp.json   a workspace instead
  mem0-mcp client-config --client claude-code             print the `claude mcp add` command

Files: Claude Desktop claude_desktop_config.json and VS Code Code/User/mcp.json in the
platform config directory (~/.config on Linux, ~/Library/Application Support on macOS,
%APPDATA% on Windows); Cursor ~/.cursor/mcp.json; Claude Code ~/.claude.json (user scope).
A file that is changed is first copied to <file>.bak-<timestamp>.")]
pub struct ClientConfigArgs {
    /// The client to configure
    #[arg(long, value_name = "CLIENT", value_parser = clap::builder::PossibleValuesParser::new(Client::NAMES))]
    pub client: String,
    /// Merge the entry into the client's configuration file (keeps every other entry and a backup)
    #[arg(long)]
    pub write: bool,
    /// Another file to print for or write to (e.g. a workspace's .vscode/mcp.json)
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// The server's name in the client
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SERVER_NAME)]
    pub name: String,
    /// Paste secrets that only the environment holds in clear (the file is then made owner-only)
    #[arg(long)]
    pub show_secrets: bool,
}

/// The absolute path of this binary, as clients should launch it (symlinks resolved, so a
/// client keeps working when a link changes; on Windows as given, since canonical paths there
/// are `\\?\` paths some clients cannot start).
pub fn current_binary() -> PathBuf {
    let exe = std::env::current_exe();
    #[cfg(not(windows))]
    let exe = exe.and_then(|p| p.canonicalize());
    exe.unwrap_or_else(|_| PathBuf::from("mem0-mcp"))
}

pub fn run(args: &ClientConfigArgs, loaded: &Loaded) -> Result<(), Failure> {
    let client = Client::from_name(&args.client)
        .ok_or_else(|| Failure::new(ExitCode::Usage, "unknown client"))?;
    let (launch, notes) = launch_for(loaded, args.show_secrets);
    let path = match &args.path {
        Some(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()),
        None => default_path(client)?,
    };
    let mut out = std::io::stdout().lock();
    for note in &notes {
        eprintln!("Note: {note}");
    }
    if args.write {
        let has_clear_secret = launch.env.iter().any(|(name, _)| is_clear_secret(name));
        let access = if has_clear_secret {
            Access::Private
        } else {
            Access::Keep
        };
        let outcome =
            config_file::write_entry(&path, client, &args.name, &client.entry(&launch), access)
                .map_err(|message| Failure::new(ExitCode::Other, message))?;
        let _ = writeln!(out, "{}", describe_outcome(&args.name, &path, &outcome));
        eprintln!("{}", client.project_note());
        eprintln!("Then {} to start it.", client.restart_hint());
        return Ok(());
    }
    let text = if client == Client::ClaudeCode && args.path.is_none() {
        claude_add_command(&args.name, &launch)
    } else {
        serde_json::to_string_pretty(&client.snippet(&args.name, &launch)).unwrap_or_default()
    };
    let _ = writeln!(out, "{text}");
    if client == Client::ClaudeCode && args.path.is_none() {
        eprintln!(
            "Run that command, or `mem0-mcp client-config --client claude-code --write` to add it to {} yourself.",
            path.display()
        );
    } else {
        eprintln!(
            "Merge it into {} (or run this command again with --write).",
            path.display()
        );
    }
    eprintln!("{}", client.project_note());
    Ok(())
}

pub fn default_path(client: Client) -> Result<PathBuf, Failure> {
    Dirs::current()
        .map(|d| client.config_path(&d))
        .ok_or_else(|| {
            Failure::new(
                ExitCode::Other,
                "cannot find your home directory: give the file with --path",
            )
        })
}

/// One line saying what happened to the file.
pub fn describe_outcome(name: &str, path: &Path, outcome: &config_file::Outcome) -> String {
    let what = match &outcome.change {
        Change::Added => format!("added server \"{name}\" to"),
        Change::Replaced(_) => format!("updated server \"{name}\" in"),
        Change::Unchanged => format!("server \"{name}\" is already up to date in"),
    };
    match &outcome.written {
        Written::Replaced { backup } => format!(
            "{what} {} (previous version kept as {})",
            path.display(),
            backup.display()
        ),
        Written::Created => format!("{what} {} (new file)", path.display()),
        Written::Unchanged => format!("{what} {}", path.display()),
    }
}

fn is_clear_secret(name: &str) -> bool {
    SecretName::ALL.iter().any(|s| s.env() == name)
}

/// How a client should start this binary so the server sees what this process sees, and notes
/// on anything it cannot carry over without pasting a secret.
pub fn launch_for(loaded: &Loaded, show_secrets: bool) -> (Launch, Vec<String>) {
    let resolved = &loaded.resolved;
    let settings = &loaded.settings;
    let mut launch = Launch::new(current_binary());
    let mut notes = Vec::new();
    // How a secret reaches the client: a file reference, nothing (keychain), or in clear only
    // when asked.
    let secret = |launch: &mut Launch, notes: &mut Vec<String>, name: SecretName, value: &str| {
        match resolved.source(name.env()) {
            Some(Source::File) => {
                if let Some(path) = resolved.secret_files.get(name.env()) {
                    launch.set(format!("{}_FILE", name.env()), path.display().to_string());
                }
            }
            Some(Source::Keychain) => notes.push(format!(
                "{} comes from the OS keychain (service {}), which the server reads itself; the client configuration does not mention it.",
                name.env(),
                name.keychain_service()
            )),
            _ if show_secrets => launch.set(name.env(), value),
            _ => notes.push(format!(
                "{} is set here only in clear ({}), so it is left out: store it with `mem0-mcp secret set {}` (the keychain) or in an owner-only file named by {}_FILE, or pass --show-secrets to paste it.",
                name.env(),
                resolved.source(name.env()).map(Source::as_str).unwrap_or("composed"),
                name.cli_name(),
                name.env()
            )),
        }
    };
    let mut handled: Vec<&str> = vec![
        "MEM0_DATABASE_URL",
        "MEM0_DB_HOST",
        "MEM0_DB_PORT",
        "MEM0_DB_NAME",
        "MEM0_DB_USER",
        "MEM0_DB_PASSWORD",
        "MEM0_TOKEN",
        "MEM0_JWT_SECRET",
        "MEM0_DATA_DIR",
        "MEM0_CONFIG",
        "MEM0_USER_ID",
    ];
    match &settings.database {
        DatabaseTarget::Postgres(url) => match resolved.source("MEM0_DATABASE_URL") {
            Some(Source::File | Source::Keychain) => {
                secret(
                    &mut launch,
                    &mut notes,
                    SecretName::DatabaseUrl,
                    url.connection_string().expose(),
                );
                // The TLS settings are added to the URL the server reads; pass them on.
                for name in [
                    "MEM0_DB_SSLMODE",
                    "MEM0_DB_SSLCERT",
                    "MEM0_DB_SSLKEY",
                    "MEM0_DB_SSLROOTCERT",
                ] {
                    if let Some(value) = resolved.get(name) {
                        launch.set(name, value);
                    }
                }
                handled.extend([
                    "MEM0_DB_SSLMODE",
                    "MEM0_DB_SSLCERT",
                    "MEM0_DB_SSLKEY",
                    "MEM0_DB_SSLROOTCERT",
                ]);
            }
            _ => {
                // The URL (composed from the parts if need be, TLS settings included), without
                // its password.
                let safe = url.without_password();
                handled.extend([
                    "MEM0_DB_SSLMODE",
                    "MEM0_DB_SSLCERT",
                    "MEM0_DB_SSLKEY",
                    "MEM0_DB_SSLROOTCERT",
                ]);
                match (resolved.source("MEM0_DB_PASSWORD"), url.password()) {
                    (Some(_), Some(password)) => {
                        launch.set("MEM0_DATABASE_URL", safe);
                        secret(
                            &mut launch,
                            &mut notes,
                            SecretName::DbPassword,
                            password.expose(),
                        );
                    }
                    (None, Some(_)) if show_secrets => {
                        launch.set("MEM0_DATABASE_URL", url.connection_string().expose())
                    }
                    (None, Some(_)) => {
                        launch.set("MEM0_DATABASE_URL", safe);
                        notes.push("the database URL here carries a password, which is left out: store the password with `mem0-mcp secret set db-password` or in an owner-only file named by MEM0_DB_PASSWORD_FILE, or pass --show-secrets to paste it.".into());
                    }
                    (_, None) => {
                        launch.set("MEM0_DATABASE_URL", safe);
                        if let Some(path) = secret_file::kept_by_init(secret_file::PASSWORD_FILE) {
                            launch.set("MEM0_DB_PASSWORD_FILE", path.display().to_string());
                        }
                    }
                }
            }
        },
        DatabaseTarget::Sqlite(path) => {
            let default_dir = crate::settings::default_data_dir();
            if default_dir.as_deref() != Some(settings.data_dir.as_path()) {
                launch.set("MEM0_DATA_DIR", settings.data_dir.display().to_string());
            }
            if *path != settings.data_dir.join(SQLITE_FILE) {
                launch.set("MEM0_DATABASE_URL", format!("sqlite://{}", path.display()));
            }
        }
    }
    if let Some(user) = &settings.user_id {
        launch.set("MEM0_USER_ID", user.as_str());
    } else if matches!(settings.database, DatabaseTarget::Postgres(_)) {
        notes.push("MEM0_USER_ID is not set: add the user id your token was created for.".into());
    }
    match &settings.token {
        Some(token) => {
            secret(&mut launch, &mut notes, SecretName::Token, token.expose());
            if crate::auth::jwt::looks_like_jwt(token.expose())
                && let Some(jwt) = &settings.jwt_secret
            {
                secret(&mut launch, &mut notes, SecretName::JwtSecret, jwt.expose());
            }
        }
        None if matches!(settings.database, DatabaseTarget::Postgres(_)) => {
            match secret_file::kept_by_init(secret_file::TOKEN_FILE) {
                Some(path) => launch.set("MEM0_TOKEN_FILE", path.display().to_string()),
                None => notes.push(
                    "no token is configured here (MEM0_TOKEN, MEM0_TOKEN_FILE or the keychain): `mem0-mcp init` creates and stores one, or create one with `mem0-mcp token create --user-id YOU`.".into(),
                ),
            }
        }
        None => {}
    }
    // A config file found in the current directory is not found by a client started elsewhere.
    if let Some(config) = &resolved.config_path {
        let in_config_dir = crate::settings::config_file::config_dir()
            .is_some_and(|dir| config.parent() == Some(dir.as_path()));
        if !in_config_dir {
            let absolute = std::path::absolute(config).unwrap_or_else(|_| config.clone());
            launch.set("MEM0_CONFIG", absolute.display().to_string());
        }
    }
    // Everything else set here on purpose (not from a config file the server reads too).
    for key in KEYS {
        if handled.contains(&key.env) || matches!(key.kind, Kind::Secret(_)) {
            continue;
        }
        if let Some(Source::Flag | Source::Env | Source::Dotenv) = resolved.source(key.env)
            && let Some(value) = resolved.get(key.env)
        {
            let value = if key.env == "PROJECT_DIR" {
                settings
                    .project_dir
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| value.to_owned())
            } else {
                value.to_owned()
            };
            launch.set(key.env, value);
        }
    }
    (launch, notes)
}
