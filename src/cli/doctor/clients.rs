//! The client checks: for each client configuration file found, each mem0 server entry in it is
//! tried as the client would start it (its command through `PATH`, its variables on top of this
//! environment without mem0's) through the same secret-file, settings, database and token checks.

use std::path::Path;

use serde_json::Value;

use super::check::{Check, Status};
use super::probe::probe;
use crate::clients::DEFAULT_SERVER_NAME;
use crate::clients::config_file::ClientFile;
use crate::clients::launch::{pasted_secrets, resolve_command, server_environment};
use crate::problem::Problem;
use crate::settings::{self, DatabaseTarget, Environment, Flags, Keychain};

/// What the client checks start from.
#[derive(Debug)]
pub(super) struct Context<'a> {
    pub process_env: &'a Environment,
    /// This binary, which clients should launch.
    pub binary: &'a Path,
    pub flags: &'a Flags,
    pub keychain: &'a Keychain,
    pub cwd: &'a Path,
}

/// One check per mem0 entry in each client file (a warning when there is no file at all).
pub(super) async fn client_checks(files: &[ClientFile], context: &Context<'_>) -> Vec<Check> {
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
        let path = file.path.display().to_string();
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
            let entry = Entry {
                path: &path,
                server,
                entry,
                fix_write: &fix_write,
            };
            checks.push(match entry_outcome(&entry, context).await {
                Ok((status, detail, fix)) => Check::new(label, status, detail).fix(fix),
                Err(Problem { what, fix }) => Check::fail(label, what, fix),
            });
        }
    }
    checks
}

/// One server entry of one client file.
#[derive(Debug)]
struct Entry<'a> {
    /// The file, as shown.
    path: &'a str,
    server: &'a str,
    entry: &'a Value,
    /// The fix that rewrites the entry.
    fix_write: &'a str,
}

/// The entry's status, what was found and the fix for a warning; or what fails.
async fn entry_outcome(
    entry: &Entry<'_>,
    context: &Context<'_>,
) -> Result<(Status, String, String), Problem> {
    let Entry {
        path,
        server,
        fix_write,
        ..
    } = *entry;
    let Some(command) = entry.entry.get("command").and_then(|c| c.as_str()) else {
        return Err(Problem::new(
            format!("{path}: server \"{server}\" has no command"),
            fix_write,
        ));
    };
    let Some(resolved) = resolve_command(command, context.process_env) else {
        return Err(Problem::new(
            format!("{path} runs {command}, which does not exist"),
            fix_write,
        ));
    };
    let mut notes = Vec::new();
    let mut status = Status::Pass;
    let mut fix = String::new();
    let binary = context
        .binary
        .canonicalize()
        .unwrap_or_else(|_| context.binary.to_path_buf());
    if resolved != binary {
        status = Status::Warn;
        notes.push(format!(
            "runs {}, not this binary ({})",
            resolved.display(),
            context.binary.display()
        ));
        fix = fix_write.to_owned();
    } else {
        notes.push("runs this binary".into());
    }
    notes.push(server_outcome(entry, context).await?);
    let clear = pasted_secrets(entry.entry);
    if !clear.is_empty() {
        status = Status::Warn;
        notes.push(format!("{} pasted in clear", clear.join(", ")));
        if fix.is_empty() {
            fix = format!("{fix_write} (it references secrets instead of pasting them)");
        }
    }
    Ok((status, format!("{path} {}", notes.join("; ")), fix))
}

/// What the server this entry starts would find (a note for the line), or why it would fail.
async fn server_outcome(entry: &Entry<'_>, context: &Context<'_>) -> Result<String, Problem> {
    let path = entry.path;
    let env = server_environment(context.process_env, entry.entry);
    let (env, file_checks) = super::check_secret_files(env, context.cwd);
    if let Some(broken) = file_checks.iter().find(|c| !c.ok) {
        return Err(Problem::new(
            format!("{path}: {}: {}", broken.name, broken.detail),
            broken.fix.clone().unwrap_or_default(),
        ));
    }
    let config_dir = settings::config_file::config_dir();
    let loaded = settings::load_from(
        context.flags,
        &env,
        context.cwd,
        config_dir.as_deref(),
        context.keychain,
    )
    .map_err(|e| {
        Problem::new(
            format!("{path}: its settings fail: {}", e.problem.what),
            e.problem.fix,
        )
    })?;
    let probe = probe(&loaded).await;
    let failed = [
        Some(&probe.database),
        probe.schema.as_ref(),
        probe.token.as_ref(),
    ]
    .into_iter()
    .flatten()
    .find(|c| !c.ok);
    if let Some(failed) = failed {
        return Err(Problem::new(
            format!(
                "{path}: the server it starts would fail: {}: {}",
                failed.name, failed.detail
            ),
            failed.fix.clone().unwrap_or_default(),
        ));
    }
    match (&loaded.settings.database, &probe.token) {
        (DatabaseTarget::Postgres(_), None) if probe.stores.is_some() => Err(Problem::new(
            format!(
                "{path}: the server it starts would fail: no token (MEM0_TOKEN, MEM0_TOKEN_FILE or the keychain)"
            ),
            entry.fix_write,
        )),
        (_, Some(token)) => Ok(token.detail.clone()),
        (_, None) => Ok(format!(
            "{}; the server acts as {}",
            probe.database.detail,
            crate::auth::acting::embedded_user(loaded.settings.user_id.as_deref())
        )),
    }
}
