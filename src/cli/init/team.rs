//! `init --server URL`: set this machine up as a member of a team server. No database: the
//! user id, the token (piped with `--token-stdin`, already in effect here, or typed at a
//! hidden prompt), checked with the server before anything is written, stored in the keychain
//! or an owner-only file, and each client's entry for the team server (Claude Desktop through
//! the stdio bridge, the others over HTTP with the token by reference).

use std::io::Read;

use super::clients::choose_clients;
use super::secrets;
use super::{Setup, other, usage};
use crate::cli::{ExitCode, Failure};
use crate::clients::config_file;
use crate::clients::team::{self, TeamServer};
use crate::clients::{Client, DEFAULT_SERVER_NAME, Dirs, Launch, current_binary};
use crate::files::Access;
use crate::mcp::bridge::{self, BridgeConfig};
use crate::settings::secret_file::TOKEN_FILE;
use crate::settings::sources::Kept;
use crate::settings::{Secret, SecretName};

pub(super) async fn run(setup: &Setup<'_>, dirs: &Dirs, url: &str) -> Result<(), Failure> {
    let current = setup.current.map(|l| &l.settings);
    let default_user = setup
        .flags
        .get("MEM0_USER_ID")
        .cloned()
        .or_else(|| current.and_then(|s| s.user_id.clone()))
        .unwrap_or_else(crate::auth::acting::os_user_name);
    let user_id = if setup.flags.contains_key("MEM0_USER_ID") {
        default_user
    } else {
        setup.ask.ask(
            "User id (the one your token was created for)",
            &default_user,
        )?
    };
    crate::settings::validate_user_id(&user_id)?;
    let token = if setup.args.token_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| other(format!("cannot read the token from stdin: {e}")))?;
        Secret::new(text.trim().to_owned())
    } else if let Some(token) = current.and_then(|s| s.token.clone()) {
        token
    } else if setup.ask.interactive() {
        Secret::new(
            setup
                .ask
                .secret("Token (from the server's operator)")?
                .trim()
                .to_owned(),
        )
    } else {
        return Err(usage(
            "init --server needs your token: pipe it with --token-stdin (never give it on the command line), or set MEM0_TOKEN",
        ));
    };
    // The server must know the token before anything is written.
    let probe = bridge::probe(BridgeConfig {
        url: url.to_owned(),
        token: token.clone(),
        user_id: Some(user_id.clone()),
        project: None,
        roots: None,
        ca: current.and_then(|s| s.server_ca.clone()),
        timeout: current.map_or(std::time::Duration::from_secs(10), |s| s.timeout),
    })
    .await
    .map_err(|e| usage(e.to_string()))?;
    let version = probe.health.map_err(|why| {
        Failure::new(ExitCode::Database, format!("the team server cannot be used: {why}; check the URL (it ends in /mcp/) and that `mem0-mcp serve --http` runs there"))
    })?;
    if let Some(Err(why)) = probe.token {
        return Err(Failure::new(ExitCode::Auth, why));
    }
    setup.report.done(
        "team server",
        format!("{url} (mem0-mcp {version}) accepts the token of {user_id}"),
    );
    let place = secrets::place(setup.args, &setup.ask, setup.keychain)?;
    let kept = secrets::store(setup, SecretName::Token, &token, place, TOKEN_FILE)?;
    let mut local = Launch::new(current_binary());
    if let Kept::File(path) = &kept {
        local.set("MEM0_TOKEN_FILE", path.display().to_string());
    }
    let server = TeamServer {
        url: url.to_owned(),
        user_id: Some(user_id),
    };
    let bridge_launch = team::bridge_launch(&local, &server);
    for client in choose_clients(setup.args, &setup.ask, dirs)? {
        configure(setup, dirs, client, &server, &bridge_launch);
    }
    setup.report.line(
        "Claude Code and Cursor read the token from MEM0_TOKEN in their environment; VS Code asks for it once.",
    );
    Ok(())
}

fn configure(setup: &Setup<'_>, dirs: &Dirs, client: Client, server: &TeamServer, bridge: &Launch) {
    let path = client.config_path(dirs);
    if setup.args.print {
        let text = if client == Client::ClaudeCode {
            server.claude_add_command(DEFAULT_SERVER_NAME)
        } else {
            serde_json::to_string_pretty(&server.snippet(client, DEFAULT_SERVER_NAME, bridge))
                .unwrap_or_default()
        };
        setup
            .report
            .line(format!("{} ({}):\n{text}", client.title(), path.display()));
        return;
    }
    let written = config_file::write_entry(
        &path,
        client,
        DEFAULT_SERVER_NAME,
        &server.entry(client, bridge),
        Access::Keep,
    )
    .and_then(|outcome| {
        if client == Client::VsCode {
            config_file::ensure_input(&path, &team::vscode_input())?;
        }
        Ok(outcome)
    });
    match written {
        Ok(outcome) => setup
            .report
            .done(client.name(), outcome.describe(DEFAULT_SERVER_NAME, &path)),
        Err(message) => setup.report.problem(client.name(), message),
    }
}
