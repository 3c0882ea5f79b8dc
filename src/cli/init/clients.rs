//! `init`'s client steps: check that the configuration a client will start the server with
//! really works (loaded the way the server loads it), pick the clients (the ones found here by
//! default) and write or print each one's configuration.

use std::path::Path;

use super::report::Report;
use super::{InitArgs, Setup, other};
use crate::auth::{self, Credentials};
use crate::cli::Failure;

use crate::cli::prompt::Prompter;
use crate::clients::{Client, DEFAULT_SERVER_NAME, Dirs, Launch, claude_add_command, config_file};
use crate::files::Access;
use crate::settings::{self, DatabaseTarget, Environment, Flags, Keychain};
use crate::store;

/// Picks the clients and configures each (or says how to do it later); returns the ones
/// configured.
pub(super) fn configure(
    setup: &Setup<'_>,
    dirs: &Dirs,
    launch: &Launch,
) -> Result<Vec<Client>, Failure> {
    let clients = choose_clients(setup.args, &setup.ask, dirs)?;
    if clients.is_empty() {
        setup.report.line(
            "No client configured: `mem0-mcp client-config --client NAME` prints a configuration, `--write` adds it.",
        );
    }
    for client in &clients {
        configure_client(*client, setup.args, &setup.ask, &setup.report, dirs, launch)?;
    }
    Ok(clients)
}

/// Loads the settings a client will start the server with (only the variables `launch` sets,
/// from the home directory, as Claude Desktop does) and checks the database and the token.
pub(super) async fn verify_launch(
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
        .map_err(|e| broken(e.problem().sentence()))?;
    stores
        .memories
        .ping()
        .await
        .map_err(|e| broken(e.problem().sentence()))?;
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

pub(super) fn choose_clients(
    args: &InitArgs,
    ask: &Prompter,
    dirs: &Dirs,
) -> Result<Vec<Client>, Failure> {
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
                report.done(client.name(), outcome.describe(DEFAULT_SERVER_NAME, &path));
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
