//! The command line: one file per subcommand, each with its clap arguments and a `run`.
//! Failures carry the documented exit code and one line for stderr.

pub mod bridge;
pub mod client_config;
pub mod completions;
pub mod config;
pub mod doctor;
mod failure;
pub mod init;
pub mod migrate;
pub mod model;
pub mod portable;
mod prompt;
pub mod reindex;
pub mod secret;
pub mod serve;
pub mod serve_http;
mod style;
mod table;
pub mod token;
pub mod trust;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::settings::Flags;

pub use failure::{ExitCode, Failure};

const AFTER_HELP: &str = "\
Getting started: `mem0-mcp init` sets up the database, a token and your clients in one go;
`mem0-mcp doctor` checks every piece of a setup and says how to fix what is broken.

Settings come from, highest first: command-line flags (never secrets), the environment
(MEM0_*), NAME_FILE secret files, the OS keychain, mem0.config.json, .env files, defaults.
A .env or mem0.config.json in the working directory counts only once trusted (`mem0-mcp trust`).
`mem0-mcp config show` lists every setting and where it came from.

Without a database setting the embedded SQLite database in MEM0_DATA_DIR is used
(default: the platform data directory, e.g. ~/.local/share/mem0).

Exit codes: 0 success (also when the client closes stdin, or on SIGTERM/SIGINT while serving);
2 usage or configuration error; 3 authentication failed; 4 database unreachable or schema not
migrated; 1 anything else.";

#[derive(Debug, Parser)]
#[command(
    name = "mem0-mcp",
    version,
    about = "Memory server for AI coding assistants (MCP over stdio)",
    long_about = "Memory server for AI coding assistants. MCP clients (Claude Desktop, Claude Code, \
VS Code, Cursor) launch it and talk the Model Context Protocol over stdin/stdout; it keeps what \
the assistant should remember in PostgreSQL or an embedded SQLite file, scoped per user and project.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub flags: GlobalFlags,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Non-secret settings that can also be given on the command line (they beat every other
/// source). Secrets have no flag: command lines are visible to every user of the machine.
#[derive(Debug, Args, Default)]
pub struct GlobalFlags {
    /// Path of mem0.config.json [env: MEM0_CONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Where the embedded database and backups live [env: MEM0_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The user memories belong to [env: MEM0_USER_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub user_id: Option<String>,
    /// auto, manual or global [env: PROJECT_ID_MODE]
    #[arg(long, global = true, value_name = "MODE")]
    pub project_id_mode: Option<String>,
    /// The project in manual mode [env: PROJECT_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub project_id: Option<String>,
    /// The directory auto mode derives the project from [env: PROJECT_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
    /// Log filter, e.g. debug or mem0_mcp=trace; logs go to stderr [env: MEM0_LOG]
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,
}

impl GlobalFlags {
    pub fn to_flags(&self) -> Flags {
        let mut flags = Flags::new();
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        for (name, value) in [
            ("MEM0_CONFIG", path(&self.config)),
            ("MEM0_DATA_DIR", path(&self.data_dir)),
            ("MEM0_USER_ID", self.user_id.clone()),
            ("PROJECT_ID_MODE", self.project_id_mode.clone()),
            ("PROJECT_ID", self.project_id.clone()),
            ("PROJECT_DIR", path(&self.project_dir)),
            ("MEM0_LOG", self.log.clone()),
        ] {
            if let Some(value) = value {
                flags.insert(name, value);
            }
        }
        flags
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set everything up: database, migrations, token, secrets, client configuration
    Init(init::InitArgs),
    /// Check the setup, one line per check, with the fix for each problem
    Doctor(doctor::DoctorArgs),
    /// Print (or write) the configuration a client needs to start this server
    ClientConfig(client_config::ClientConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(completions::CompletionsArgs),
    /// Serve MCP over stdio (the default when no command is given)
    Serve(serve::ServeArgs),
    /// Apply the embedded database migrations, or show which are applied
    Migrate(migrate::MigrateArgs),
    /// Show the effective settings and where each came from, or print the example config
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Store, delete or list secrets in the OS keychain
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Manage access tokens: create, list, revoke, enable, delete, audit, stats, mint
    Token(token::TokenArgs),
    /// Trust the working directory's .env / mem0.config.json (or list, or revoke trust)
    Trust(trust::TrustArgs),
    /// Write memories (with their history) as JSON Lines, to a file or stdout
    Export(portable::ExportArgs),
    /// Read memories from an export (or a mem0 dump): all or nothing, idempotent
    Import(portable::ImportArgs),
    /// Embed the memories that lack a vector of the configured model (semantic search)
    Reindex(reindex::ReindexArgs),
    /// Get the builtin embedding model: `model install` downloads it, checksum verified
    #[command(subcommand)]
    Model(model::ModelCommand),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::settings::keys::KEYS;

    /// The settings registry says which settings have a flag; the command line must offer
    /// exactly those, under those names, and map each to its variable.
    #[test]
    fn global_flags_match_the_registry() {
        let command = Cli::command();
        let mut offered: Vec<&str> = command
            .get_arguments()
            .filter(|a| a.is_global_set())
            .filter_map(|a| a.get_long())
            .collect();
        let mut registered: Vec<&str> = KEYS.iter().filter_map(|k| k.flag).collect();
        registered.sort_unstable();
        offered.sort_unstable();
        assert_eq!(offered, registered);

        let all = GlobalFlags {
            config: Some("c".into()),
            data_dir: Some("d".into()),
            user_id: Some("u".into()),
            project_id_mode: Some("auto".into()),
            project_id: Some("p".into()),
            project_dir: Some("pd".into()),
            log: Some("warn".into()),
        };
        let flags = all.to_flags();
        for key in KEYS.iter().filter(|k| k.flag.is_some()) {
            assert!(flags.contains_key(key.env), "{} has no flag value", key.env);
        }
        assert_eq!(flags.len(), registered.len());
    }
}
