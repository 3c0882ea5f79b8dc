//! `mem0-mcp doctor [--json] [--client NAME]`: checks everything a working setup needs, one line
//! each (✓ passed, ⚠ works but deserves a look, ✗ broken, with the fix): the `_FILE` secrets,
//! where each setting came from, the database and its latency, the schema, the token, the
//! keychain, the project `auto` resolves here, and each client configuration file, including
//! whether the server it launches would start. Exit code 0 when nothing is ✗, else 1.
//!
//! Checks never change anything: no migration, no audit row, no `last_used_at`, and an embedded
//! database that does not exist yet is not created.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use serde::Serialize;

use super::migrate::explain;
use super::style::Style;
use super::{ExitCode, Failure};
use crate::auth::{self, AuthError, Credentials};
use crate::clients::config_file;
use crate::clients::launch::{resolve_command, server_environment};
use crate::clients::{Client, DEFAULT_SERVER_NAME, Dirs, current_binary};
use crate::memory::ProjectMode;
use crate::problem::Problem;
use crate::project::{self, ProjectSource};
use crate::settings::keychain::Lookup;
use crate::settings::{
    self, DatabaseTarget, Environment, Flags, Keychain, Loaded, SecretName, Source, pg_url,
    secret_file,
};
use crate::store::{self, Backend, MigrationState, Stores};
use secret_file::SecretFileError;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pass,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub warning: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            ok: status != Status::Fail,
            warning: status == Status::Warn,
            detail: detail.into(),
            fix: None,
        }
    }

    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check::new(name, Status::Pass, detail)
    }

    fn warn(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check::new(name, Status::Warn, detail).fix(fix)
    }

    fn fail(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check::new(name, Status::Fail, detail).fix(fix)
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        let fix = fix.into();
        self.fix = (!fix.is_empty()).then_some(fix);
        self
    }

    fn status(&self) -> Status {
        match (self.ok, self.warning) {
            (false, _) => Status::Fail,
            (true, true) => Status::Warn,
            (true, false) => Status::Pass,
        }
    }

    fn line(&self, style: Style) -> String {
        let mark = match self.status() {
            Status::Pass => style.pass(),
            Status::Warn => style.warn(),
            Status::Fail => style.fail(),
        };
        let mut line = format!("{mark} {}: {}", style.bold(&self.name), self.detail);
        if let Some(fix) = &self.fix {
            line.push_str(&format!(" — fix: {fix}"));
        }
        line
    }
}

pub async fn run(args: &DoctorArgs, flags: &Flags, keychain: &Keychain) -> Result<(), Failure> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let dirs = Dirs::current();
    let config_dir = settings::config_file::config_dir();
    let process_env = settings::process_environment();
    let binary = current_binary();
    let mut checks = Vec::new();

    let client_entries = read_clients(dirs.as_ref());
    let env = match &args.client {
        None => process_env.clone(),
        Some(name) => {
            let client = Client::from_name(name)
                .ok_or_else(|| Failure::new(ExitCode::Usage, "unknown client"))?;
            match client_entries.iter().find(|c| c.client == client) {
                Some(ClientFile {
                    entries: Ok(entries),
                    ..
                }) if !entries.is_empty() => server_environment(&process_env, &entries[0].1),
                _ => {
                    return Err(Failure::new(
                        ExitCode::Other,
                        format!(
                            "{} has no mem0 server configured: add one with `mem0-mcp client-config --client {name} --write`",
                            client.title()
                        ),
                    ));
                }
            }
        }
    };

    // Secret files first: one that is broken would stop the settings from loading at all.
    let (env, file_checks) = check_secret_files(env, &cwd);
    checks.extend(file_checks);
    let loaded = match settings::load_from(flags, &env, &cwd, config_dir.as_deref(), keychain) {
        Ok(loaded) => {
            checks.push(settings_check(&loaded));
            for warning in &loaded.resolved.warnings {
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
    let clients_with_mem0 = client_entries
        .iter()
        .any(|c| c.entries.as_ref().is_ok_and(|e| !e.is_empty()));
    if let Some(loaded) = &loaded {
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
    }
    checks.push(keychain_check(keychain));
    if let Some(loaded) = &loaded {
        checks.push(project_check(loaded, &cwd, dirs.as_ref()));
    }
    checks.extend(
        client_checks(
            &client_entries,
            &process_env,
            &binary,
            flags,
            keychain,
            &cwd,
        )
        .await,
    );

    let failed = checks.iter().filter(|c| !c.ok).count();
    let mut out = std::io::stdout().lock();
    if args.json {
        let report = serde_json::json!({ "ok": failed == 0, "checks": checks });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        let style = Style::stdout();
        for check in &checks {
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
fn check_secret_files(mut env: Environment, cwd: &Path) -> (Environment, Vec<Check>) {
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

/// What the database, schema and token checks found.
#[derive(Debug)]
struct Probe {
    database: Check,
    schema: Option<Check>,
    /// `None` when no token is configured (or the database could not be asked).
    token: Option<Check>,
    stores: Option<Stores>,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

async fn probe(loaded: &Loaded) -> Probe {
    let settings = &loaded.settings;
    let described = match &settings.database {
        DatabaseTarget::Postgres(url) => format!("PostgreSQL at {}", url.describe()),
        DatabaseTarget::Sqlite(path) => format!("embedded SQLite at {}", path.display()),
    };
    if let DatabaseTarget::Sqlite(path) = &settings.database
        && !path.exists()
    {
        return Probe {
            database: Check::warn(
                "database",
                format!(
                    "{described} does not exist yet (the server creates it when it first starts)"
                ),
                "run `mem0-mcp init` to create it now",
            ),
            schema: None,
            token: None,
            stores: None,
        };
    }
    let opened = tokio::time::timeout(PROBE_TIMEOUT, async {
        let stores = store::open_all(&settings.database, settings.timeout).await?;
        let started = Instant::now();
        stores.memories.ping().await?;
        let first = started.elapsed();
        // The first round trip includes connecting; the second is the latency.
        let started = Instant::now();
        stores.memories.ping().await?;
        Ok::<_, store::StoreError>((stores, first, started.elapsed()))
    })
    .await;
    let (stores, connect, latency) = match opened {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            let explained = explain(&e);
            return Probe {
                database: Check::fail(
                    "database",
                    format!("{described}: {}", explained.problem),
                    explained.fix,
                ),
                schema: None,
                token: None,
                stores: None,
            };
        }
        Err(_) => {
            return Probe {
                database: Check::fail(
                    "database",
                    format!(
                        "{described} did not answer within {} s",
                        PROBE_TIMEOUT.as_secs()
                    ),
                    "check that the host and port are right and that a firewall lets the connection through",
                ),
                schema: None,
                token: None,
                stores: None,
            };
        }
    };
    let database = Check::pass(
        "database",
        format!(
            "{described} reachable ({} round trip, {} to connect)",
            millis(latency),
            millis(connect)
        ),
    );
    let backend = stores.memories.backend();
    // The token tables exist only once every migration is applied.
    let mut tables_ready = false;
    let schema = match stores.memories.schema_status().await {
        Err(e) => {
            let explained = explain(&e);
            Check::fail("schema", explained.problem, explained.fix)
        }
        Ok(status) => {
            let all = status.migrations.len();
            let pending = status.pending().len();
            tables_ready = pending == 0;
            let modified = status
                .migrations
                .iter()
                .filter(|(_, s)| matches!(s, MigrationState::Modified { .. }))
                .count();
            if pending > 0 && backend == Backend::Postgres {
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
            }
        }
    };
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
            let explained = explain(&e);
            Check::fail("token", explained.problem, explained.fix)
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

fn missing_token_check(loaded: &Loaded, clients_configured: bool) -> Check {
    let settings = &loaded.settings;
    match &settings.database {
        DatabaseTarget::Sqlite(_) => Check::pass(
            "token",
            format!(
                "none, and none needed on the embedded database (the server acts as {})",
                settings
                    .user_id
                    .clone()
                    .unwrap_or_else(super::serve::os_user_name)
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

fn project_check(loaded: &Loaded, cwd: &Path, dirs: Option<&Dirs>) -> Check {
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
            if loaded
                .resolved
                .get("PROJECT_DIR")
                .is_some_and(|d| d.contains("${"))
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
            let how = match derived.source {
                ProjectSource::GitRemote => "its git remote origin",
                ProjectSource::GitTopLevel => "its git checkout",
                ProjectSource::Directory => "the directory's path",
                ProjectSource::DefaultFallback => "no project",
            };
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

/// One client's configuration file and the mem0 entries in it.
#[derive(Debug)]
struct ClientFile {
    client: Client,
    path: PathBuf,
    /// `Err` when the file cannot be read as JSON.
    entries: Result<Vec<(String, serde_json::Value)>, String>,
}

fn read_clients(dirs: Option<&Dirs>) -> Vec<ClientFile> {
    let Some(dirs) = dirs else {
        return Vec::new();
    };
    Client::ALL
        .into_iter()
        .filter_map(|client| {
            let path = client.config_path(dirs);
            let entries = match config_file::servers(&path, client) {
                Ok(None) => return None,
                Ok(Some(servers)) => Ok(config_file::mem0_entries(&servers, DEFAULT_SERVER_NAME)),
                Err(e) => Err(e),
            };
            Some(ClientFile {
                client,
                path,
                entries,
            })
        })
        .collect()
}

async fn client_checks(
    files: &[ClientFile],
    process_env: &Environment,
    binary: &Path,
    flags: &Flags,
    keychain: &Keychain,
    cwd: &Path,
) -> Vec<Check> {
    if files.is_empty() {
        return vec![Check::warn(
            "clients",
            "no client configuration file found (Claude Desktop, VS Code, Claude Code, Cursor)",
            "run `mem0-mcp init`, or `mem0-mcp client-config --client NAME --write`",
        )];
    }
    let mut checks = Vec::new();
    for file in files {
        let name = format!("client {}", file.client.name());
        let path = file.path.display();
        let fix_write = format!(
            "run `mem0-mcp client-config --client {} --write`",
            file.client.name()
        );
        let entries = match &file.entries {
            Err(e) => {
                checks.push(Check::fail(name, e.clone(), "fix the file's JSON"));
                continue;
            }
            Ok(entries) if entries.is_empty() => {
                checks.push(Check::warn(
                    name,
                    format!("{path} has no mem0 server"),
                    fix_write,
                ));
                continue;
            }
            Ok(entries) => entries,
        };
        for (server, entry) in entries {
            let label = if server == DEFAULT_SERVER_NAME {
                name.clone()
            } else {
                format!("{name} ({server})")
            };
            let Some(command) = entry.get("command").and_then(|c| c.as_str()) else {
                checks.push(Check::fail(
                    label,
                    format!("{path}: server \"{server}\" has no command"),
                    fix_write.clone(),
                ));
                continue;
            };
            let env = server_environment(process_env, entry);
            let resolved = resolve_command(command, process_env);
            let Some(resolved) = resolved else {
                checks.push(Check::fail(
                    label,
                    format!("{path} runs {command}, which does not exist"),
                    fix_write.clone(),
                ));
                continue;
            };
            let mut notes = Vec::new();
            let mut status = Status::Pass;
            let mut fix = String::new();
            if resolved
                != binary
                    .canonicalize()
                    .unwrap_or_else(|_| binary.to_path_buf())
            {
                status = Status::Warn;
                notes.push(format!(
                    "runs {}, not this binary ({})",
                    resolved.display(),
                    binary.display()
                ));
                fix = fix_write.clone();
            } else {
                notes.push("runs this binary".into());
            }
            let clear: Vec<&str> = entry
                .get("env")
                .and_then(|e| e.as_object())
                .map(|vars| {
                    vars.iter()
                        .filter(|(k, v)| {
                            (*k == "MEM0_TOKEN"
                                || *k == "MEM0_DB_PASSWORD"
                                || *k == "MEM0_JWT_SECRET")
                                || (*k == "MEM0_DATABASE_URL"
                                    && v.as_str().is_some_and(pg_url::has_password))
                        })
                        .map(|(k, _)| k.as_str())
                        .collect()
                })
                .unwrap_or_default();
            // The server as this client would start it.
            let (env, file_checks) = check_secret_files(env, cwd);
            if let Some(broken) = file_checks.iter().find(|c| !c.ok) {
                checks.push(Check::fail(
                    label,
                    format!("{path}: {}: {}", broken.name, broken.detail),
                    broken.fix.clone().unwrap_or_default(),
                ));
                continue;
            }
            let dirs_config = settings::config_file::config_dir();
            let loaded =
                match settings::load_from(flags, &env, cwd, dirs_config.as_deref(), keychain) {
                    Ok(loaded) => loaded,
                    Err(e) => {
                        checks.push(Check::fail(
                            label,
                            format!("{path}: its settings fail: {}", e.problem.what),
                            e.problem.fix,
                        ));
                        continue;
                    }
                };
            let probe = probe(&loaded).await;
            let failed = [
                Some(&probe.database),
                probe.schema.as_ref(),
                probe.token.as_ref(),
            ]
            .into_iter()
            .flatten()
            .find(|c| !c.ok)
            .cloned();
            if let Some(failed) = failed {
                checks.push(Check::fail(
                    label,
                    format!(
                        "{path}: the server it starts would fail: {}: {}",
                        failed.name, failed.detail
                    ),
                    failed.fix.unwrap_or_default(),
                ));
                continue;
            }
            match (&loaded.settings.database, &probe.token) {
                (DatabaseTarget::Postgres(_), None) if probe.stores.is_some() => {
                    checks.push(Check::fail(
                        label,
                        format!("{path}: the server it starts would fail: no token (MEM0_TOKEN, MEM0_TOKEN_FILE or the keychain)"),
                        fix_write.clone(),
                    ));
                    continue;
                }
                (_, Some(token)) => notes.push(token.detail.clone()),
                (_, None) => notes.push(format!(
                    "{}; the server acts as {}",
                    probe.database.detail,
                    loaded
                        .settings
                        .user_id
                        .clone()
                        .unwrap_or_else(super::serve::os_user_name)
                )),
            }
            if !clear.is_empty() {
                status = Status::Warn;
                notes.push(format!("{} pasted in clear", clear.join(", ")));
                if fix.is_empty() {
                    fix = format!("{fix_write} (it references secrets instead of pasting them)");
                }
            }
            checks.push(Check::new(label, status, format!("{path} {}", notes.join("; "))).fix(fix));
        }
    }
    checks
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

    #[test]
    fn lines_carry_the_mark_and_the_fix() {
        let line = Check::fail("token", "revoked", "create a new one").line(Style::PLAIN);
        assert_eq!(line, "✗ token: revoked — fix: create a new one");
        assert_eq!(
            Check::pass("database", "ok").line(Style::PLAIN),
            "✓ database: ok"
        );
        assert!(
            Check::warn("project", "home", "set PROJECT_DIR")
                .line(Style::PLAIN)
                .starts_with("⚠ project: home")
        );
    }
}
