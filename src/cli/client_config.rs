//! `mem0-mcp client-config --client NAME [--write]`: the configuration a client needs to start
//! this binary with the settings in effect here ([`Launch::carrying`] decides what it carries;
//! secrets are never pasted in clear unless asked). Without `--write` the snippet goes to stdout
//! and the notes to stderr; `--write` merges it into the client's file, keeping a backup.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{ExitCode, Failure};
use crate::clients::config_file;
use crate::clients::team::{self, TeamServer};
use crate::clients::{
    Client, DEFAULT_SERVER_NAME, Dirs, Launch, claude_add_command, current_binary,
};
use crate::files::Access;
use crate::settings::Loaded;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mem0-mcp client-config --client claude-desktop           print the snippet
  mem0-mcp client-config --client vscode --write           merge it into VS Code's user mcp.json
  mem0-mcp client-config --client vscode --write --path .vscode/mcp.json   a workspace instead
  mem0-mcp client-config --client claude-code             print the `claude mcp add` command
  mem0-mcp client-config --client vscode --server https://mem0.example.com/mcp/   a team server

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
    /// Connect to a team server (`mem0-mcp serve --http`) at this MCP URL instead of a
    /// database: an http entry with the token by reference (Claude Desktop: the stdio bridge)
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}

pub fn run(args: &ClientConfigArgs, loaded: &Loaded) -> Result<(), Failure> {
    let client = Client::from_name(&args.client)
        .ok_or_else(|| Failure::new(ExitCode::Usage, "unknown client"))?;
    let (launch, notes) = Launch::carrying(loaded, current_binary(), args.show_secrets);
    if let Some(url) = &args.server {
        let server = TeamServer {
            url: team_url(url)?,
            user_id: loaded.settings.user_id.clone(),
        };
        return run_team(
            args,
            client,
            &server,
            &team::bridge_launch(&launch, &server),
            &notes,
        );
    }
    let path = match &args.path {
        Some(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()),
        None => default_path(client)?,
    };
    let mut out = std::io::stdout().lock();
    for note in &notes {
        eprintln!("Note: {note}");
    }
    if args.write {
        let access = if launch.has_clear_secret() {
            Access::Private
        } else {
            Access::Keep
        };
        let outcome =
            config_file::write_entry(&path, client, &args.name, &client.entry(&launch), access)
                .map_err(|message| Failure::new(ExitCode::Other, message))?;
        let _ = writeln!(out, "{}", outcome.describe(&args.name, &path));
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

/// A team server's URL as given, checked for a scheme.
fn team_url(url: &str) -> Result<String, Failure> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.contains(char::is_whitespace)
    {
        Ok(url.to_owned())
    } else {
        Err(Failure::new(
            ExitCode::Usage,
            format!(
                "--server '{url}' is not an http:// or https:// URL: give the team server's MCP endpoint, e.g. https://mem0.example.com/mcp/"
            ),
        ))
    }
}

/// `--server`: the entry that connects `client` to the team server.
fn run_team(
    args: &ClientConfigArgs,
    client: Client,
    server: &TeamServer,
    bridge: &Launch,
    notes: &[String],
) -> Result<(), Failure> {
    let path = match &args.path {
        Some(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()),
        None => default_path(client)?,
    };
    let mut out = std::io::stdout().lock();
    if client == Client::ClaudeDesktop {
        for note in notes {
            eprintln!("Note: {note}");
        }
    }
    let token_note = match client {
        Client::ClaudeCode => {
            "Claude Code reads the token from MEM0_TOKEN in its environment (export it in your shell profile, or use a secret manager that sets it)."
        }
        Client::VsCode => {
            "VS Code asks for the token once (input mem0-token) and keeps it in its secret storage."
        }
        Client::Cursor => "Cursor reads the token from MEM0_TOKEN in its environment.",
        Client::ClaudeDesktop => {
            "Claude Desktop starts this binary as a bridge to the team server; it needs MEM0_TOKEN (or MEM0_TOKEN_FILE, or the keychain entry) and no database settings."
        }
    };
    if args.write {
        let access = if bridge.has_clear_secret() && client == Client::ClaudeDesktop {
            Access::Private
        } else {
            Access::Keep
        };
        let outcome = config_file::write_entry(
            &path,
            client,
            &args.name,
            &server.entry(client, bridge),
            access,
        )
        .map_err(|message| Failure::new(ExitCode::Other, message))?;
        if client == Client::VsCode {
            config_file::ensure_input(&path, &team::vscode_input())
                .map_err(|message| Failure::new(ExitCode::Other, message))?;
        }
        let _ = writeln!(out, "{}", outcome.describe(&args.name, &path));
        eprintln!("{token_note}");
        eprintln!("Then {} to start it.", client.restart_hint());
        return Ok(());
    }
    let text = if client == Client::ClaudeCode && args.path.is_none() {
        server.claude_add_command(&args.name)
    } else {
        serde_json::to_string_pretty(&server.snippet(client, &args.name, bridge))
            .unwrap_or_default()
    };
    let _ = writeln!(out, "{text}");
    if client == Client::ClaudeCode && args.path.is_none() {
        eprintln!("Run that command (or this one again with --write).");
    } else {
        eprintln!(
            "Merge it into {} (or run this command again with --write).",
            path.display()
        );
    }
    eprintln!("{token_note}");
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
