//! `mem0-mcp client-config --client NAME [--write]`: the configuration a client needs to start
//! this binary with the settings in effect here ([`Launch::carrying`] decides what it carries;
//! secrets are never pasted in clear unless asked). Without `--write` the snippet goes to stdout
//! and the notes to stderr; `--write` merges it into the client's file, keeping a backup.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{ExitCode, Failure};
use crate::clients::config_file;
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

pub fn run(args: &ClientConfigArgs, loaded: &Loaded) -> Result<(), Failure> {
    let client = Client::from_name(&args.client)
        .ok_or_else(|| Failure::new(ExitCode::Usage, "unknown client"))?;
    let (launch, notes) = Launch::carrying(loaded, current_binary(), args.show_secrets);
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
