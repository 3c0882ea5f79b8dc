//! `mem0-mcp doctor [--json] [--client NAME]`: checks everything a working setup needs, one line
//! each (✓ passed, ⚠ works but deserves a look, ✗ broken, with the fix): the `_FILE` secrets,
//! where each setting came from, the database and its latency, the schema, the token, the
//! keychain, the embedding provider and how many memories lack a vector, the project `auto`
//! resolves here, and each client configuration file, including whether the server it
//! launches would start. With `MEM0_SERVER_URL` the database checks give way to the team
//! server's ([`server`]). Exit code 0 when nothing is ✗, else 1.
//!
//! Checks never change anything: no migration, no audit row, no `last_used_at`, and an embedded
//! database that does not exist yet is not created. `check` is one line of the report, `probe`
//! the database, schema and token checks, `clients` the client configuration files; this file
//! runs them in order and checks the secret files, the settings, the keychain and the project.

mod check;
mod clients;
mod embeddings;
mod probe;
mod server;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::style::Style;
use super::{ExitCode, Failure};
use crate::clients::config_file::{self, ClientFile};
use crate::clients::launch::server_environment;
use crate::clients::{Client, Dirs, current_binary};
use crate::project::ProjectMode;
use crate::project::{self, ProjectSource};
use crate::settings::keychain::Lookup;
use crate::settings::placeholder::Placeholder;
use crate::settings::secret_file::{self, SecretFileError};
use crate::settings::{self, Environment, Flags, Keychain, Loaded, SecretName, Source};
use check::Check;
use clients::{Context, client_checks};
use probe::{missing_token_check, probe};

#[derive(Debug, Args)]
#[command(after_help = "\
Each line is one check: ✓ passed, ⚠ works but deserves a look, ✗ broken (with the fix).
Without --client the checks use this shell's settings, and each client configuration found is
tried with the variables it sets. With --client NAME every check uses that client's variables,
as the client would start the server.

Exit codes: 0 when no check failed (warnings allowed), 1 otherwise.
--json prints {\"ok\": bool, \"checks\": [{\"name\", \"ok\", \"warning\", \"detail\", \"fix\"}]}.")]
pub struct DoctorArgs {
    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
    /// Check with the variables this client's configuration sets
    #[arg(long, value_name = "CLIENT", value_parser = clap::builder::PossibleValuesParser::new(Client::NAMES))]
    pub client: Option<String>,
}

pub async fn run(args: &DoctorArgs, flags: &Flags, keychain: &Keychain) -> Result<(), Failure> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let dirs = Dirs::current();
    let config_dir = settings::config_file::config_dir();
    let process_env = settings::process_environment();
    let binary = current_binary();
    let mut checks = Vec::new();

    let client_files = dirs.as_ref().map(config_file::read_all).unwrap_or_default();
    let env = match &args.client {
        None => process_env.clone(),
        Some(name) => client_environment(name, &client_files, &process_env)?,
    };

    // Secret files first: one that is broken would stop the settings from loading at all.
    let (env, file_checks) = check_secret_files(env, &cwd);
    checks.extend(file_checks);
    // VS Code and Cursor expand `${…}` in their own configuration: checked as that client,
    // such a value is the client's to fill in, not a mistake.
    let client_expands = args
        .client
        .as_deref()
        .and_then(Client::from_name)
        .is_some_and(Client::expands_workspace_folder);
    let loaded = match settings::load_from(flags, &env, &cwd, config_dir.as_deref(), keychain) {
        Ok(loaded) => {
            checks.push(settings_check(&loaded));
            let expanded_by_client = |warning: &crate::problem::Problem| {
                client_expands
                    && loaded.resolved.unexpanded.iter().any(|(name, value)| {
                        Placeholder::find(value) == Some(Placeholder::Editor)
                            && warning.what.starts_with(&format!("{name} is '"))
                    })
            };
            for warning in loaded
                .resolved
                .warnings
                .iter()
                .filter(|w| !expanded_by_client(w))
            {
                checks.push(Check::warn(
                    "settings",
                    warning.what.clone(),
                    warning.fix.clone(),
                ));
            }
            Some(loaded)
        }
        Err(e) => {
            checks.push(Check::fail("settings", e.problem.what, e.problem.fix));
            None
        }
    };
    let clients_with_mem0 = client_files
        .iter()
        .any(|c| c.entries.as_ref().is_ok_and(|e| !e.is_empty()));
    let server_url = loaded.as_ref().and_then(|l| l.settings.server_url.clone());
    if let (Some(loaded), Some(url)) = (&loaded, &server_url) {
        // A bridge to a team server: the server holds the database.
        checks.extend(server::server_checks(&loaded.settings, url).await);
    } else if let Some(loaded) = &loaded {
        let probe = probe(loaded).await;
        checks.push(probe.database.clone());
        checks.extend(probe.schema.clone());
        match probe.token {
            Some(token) => checks.push(token),
            None if probe.stores.is_some() => checks.push(missing_token_check(
                loaded,
                args.client.is_none() && clients_with_mem0,
            )),
            None => {}
        }
        checks.push(embeddings::embeddings_check(&loaded.settings, probe.stores.as_ref()).await);
    }
    if let Some(check) = loaded.as_ref().and_then(direct_access_check) {
        checks.push(check);
    }
    checks.push(keychain_check(keychain));
    if let Some(loaded) = &loaded {
        checks.push(project_check(loaded, &cwd, dirs.as_ref(), client_expands));
    }
    let context = Context {
        process_env: &process_env,
        binary: &binary,
        flags,
        keychain,
        cwd: &cwd,
    };
    checks.extend(client_checks(&client_files, &context).await);
    report(&checks, args.json)
}

/// The environment `--client NAME`'s first mem0 entry starts the server with.
fn client_environment(
    name: &str,
    files: &[ClientFile],
    process_env: &Environment,
) -> Result<Environment, Failure> {
    let client =
        Client::from_name(name).ok_or_else(|| Failure::new(ExitCode::Usage, "unknown client"))?;
    match files.iter().find(|c| c.client == client) {
        Some(ClientFile {
            entries: Ok(entries),
            ..
        }) if !entries.is_empty() => Ok(server_environment(process_env, &entries[0].1)),
        _ => Err(Failure::new(
            ExitCode::Other,
            format!(
                "{} has no mem0 server configured: add one with `mem0-mcp client-config --client {name} --write`",
                client.title()
            ),
        )),
    }
}

/// Prints the checks (text or JSON); fails when one of them did.
fn report(checks: &[Check], json: bool) -> Result<(), Failure> {
    let failed = checks.iter().filter(|c| !c.ok).count();
    let mut out = std::io::stdout().lock();
    if json {
        let report = serde_json::json!({ "ok": failed == 0, "checks": checks });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        let style = Style::stdout();
        for check in checks {
            let _ = writeln!(out, "{}", check.line(style));
        }
        if failed == 0 {
            let _ = writeln!(out, "\nEverything needed works.");
        }
    }
    if failed > 0 {
        return Err(Failure::new(
            ExitCode::Other,
            format!(
                "{failed} of {} checks failed; each ✗ line says how to fix it",
                checks.len()
            ),
        ));
    }
    Ok(())
}

/// Checks each `NAME_FILE` in the environment; broken ones are taken out so the rest of the
/// settings can still be checked.
pub(super) fn check_secret_files(mut env: Environment, cwd: &Path) -> (Environment, Vec<Check>) {
    let mut checks = Vec::new();
    for name in SecretName::ALL {
        let variable = format!("{}_FILE", name.env());
        let Some(value) = env.get(&variable).filter(|v| !v.trim().is_empty()).cloned() else {
            continue;
        };
        let path = cwd.join(value.trim());
        // The reader the server uses, so a file passes here exactly when the server takes it.
        let problem = match secret_file::read(&path) {
            Err(SecretFileError::Unreadable(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Some((
                    format!("{} does not exist", path.display()),
                    format!(
                        "write the secret into it (owner-only: chmod 600), point {variable} at the right file, or run `mem0-mcp init` again"
                    ),
                ))
            }
            Err(SecretFileError::Unreadable(e)) => Some((
                format!("{} cannot be read ({})", path.display(), e.kind()),
                format!("fix the file's permissions, or point {variable} at a readable file"),
            )),
            Err(SecretFileError::Empty) => Some((
                format!("{} is empty", path.display()),
                "write the secret into it".to_owned(),
            )),
            Ok(_) => None,
        };
        match problem {
            Some((detail, fix)) => {
                checks.push(Check::fail(variable.clone(), detail, fix));
                env.remove(&variable);
            }
            None if crate::files::readable_by_others(&path) => checks.push(Check::warn(
                variable,
                format!("{} can be read by other users", path.display()),
                format!("chmod 600 {}", path.display()),
            )),
            None => checks.push(Check::pass(
                variable,
                format!("{} (readable by you only)", path.display()),
            )),
        }
    }
    (env, checks)
}

/// Which settings came from where (defaults are not listed).
/// In direct mode the process holds the database credentials, which no token limits: say so
/// (with the JWT secret as well, anyone running it can mint tokens for every user).
fn direct_access_check(loaded: &Loaded) -> Option<Check> {
    if !matches!(
        loaded.settings.database,
        settings::DatabaseTarget::Postgres(_)
    ) {
        return None;
    }
    let what = "direct mode: this process holds the PostgreSQL credentials, so whoever runs it with these settings can read and change every user's memories and the token tables; tokens limit the tools, not the database";
    Some(match loaded.settings.jwt_secret {
        Some(_) => Check::warn(
            "direct access",
            format!("{what}; with MEM0_JWT_SECRET too, it can mint tokens for any user"),
            "give jobs and other users only a token (a team server, `mem0-mcp serve --http`, keeps the credentials and the secret in one place), and keep MEM0_JWT_SECRET out of their environment",
        ),
        None => Check::pass("direct access", what),
    })
}

fn settings_check(loaded: &Loaded) -> Check {
    let mut by_source: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for (name, (_, source)) in &loaded.resolved.values {
        if *source == Source::Default {
            continue;
        }
        let shown = match (source, loaded.resolved.secret_files.get(name)) {
            (Source::File, Some(path)) => format!("{name} ({})", path.display()),
            _ => name.to_string(),
        };
        by_source.entry(source.as_str()).or_default().push(shown);
    }
    let mut parts: Vec<String> = Vec::new();
    for source in ["flag", "env", "file", "keychain", "config", "dotenv"] {
        if let Some(names) = by_source.get(source) {
            parts.push(format!("{source}: {}", names.join(", ")));
        }
    }
    let config = match &loaded.resolved.config_path {
        Some(path) => format!("config file {}", path.display()),
        None => "no config file".into(),
    };
    if parts.is_empty() {
        return Check::pass("settings", format!("all defaults; {config}"));
    }
    Check::pass(
        "settings",
        format!("{}; {config}; everything else default", parts.join("; ")),
    )
}

/// What the OS keychain holds (never a value), or why it is not there.
fn keychain_check(keychain: &Keychain) -> Check {
    match keychain.availability() {
        Ok(()) => {
            let held: Vec<&str> = SecretName::ALL
                .into_iter()
                .filter(|s| matches!(keychain.get(*s), Lookup::Found(_)))
                .map(|s| s.cli_name())
                .collect();
            let holds = if held.is_empty() {
                "holds no mem0 secret".to_string()
            } else {
                format!("holds {}", held.join(", "))
            };
            Check::pass("keychain", format!("available; {holds}"))
        }
        Err(reason) => Check::pass(
            "keychain",
            format!(
                "not available here ({reason}); secrets come from *_FILE files or the environment instead"
            ),
        ),
    }
}

/// The project the settings select here, and where `auto` takes it from.
fn project_check(loaded: &Loaded, cwd: &Path, dirs: Option<&Dirs>, client_expands: bool) -> Check {
    let settings = &loaded.settings;
    match settings.project_mode {
        ProjectMode::Global => Check::pass("project", "global: one pool shared by every user"),
        ProjectMode::Manual => Check::pass(
            "project",
            format!(
                "manual: {}",
                settings.project_id.as_deref().unwrap_or_default()
            ),
        ),
        ProjectMode::Auto => {
            if client_expands
                && loaded
                    .resolved
                    .unexpanded
                    .get("PROJECT_DIR")
                    .is_some_and(|d| Placeholder::find(d) == Some(Placeholder::Editor))
            {
                return Check::pass(
                    "project",
                    "auto: the folder the client has open (PROJECT_DIR is expanded by the client)",
                );
            }
            let (dir, from) = match &settings.project_dir {
                Some(dir) => (dir.clone(), "PROJECT_DIR"),
                None => (cwd.to_path_buf(), "the current directory"),
            };
            let home = dirs.map(|d| d.home.clone());
            let derived = project::derive_project(&dir, home.as_deref());
            let how = derived.source.describe();
            if derived.source == ProjectSource::DefaultFallback {
                return Check::warn(
                    "project",
                    format!(
                        "auto resolves {from} ({}) to the shared `{}` project: it is {}",
                        dir.display(),
                        derived.id,
                        if home.as_deref() == Some(dir.as_path()) {
                            "your home directory"
                        } else {
                            "the filesystem root"
                        }
                    ),
                    "run from a project directory, set PROJECT_DIR to it, or use PROJECT_ID_MODE=manual with PROJECT_ID; clients that start servers in the home directory need one of these",
                );
            }
            Check::pass(
                "project",
                format!(
                    "auto resolves {from} ({}) to {} (from {how})",
                    dir.display(),
                    derived.id
                ),
            )
        }
    }
}
