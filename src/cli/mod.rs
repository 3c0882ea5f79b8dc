//! The command line: one file per subcommand, each with its clap arguments and a `run`.
//! Failures carry the documented exit code and one line for stderr.

pub mod migrate;
pub mod serve;
mod table;
pub mod token;
mod token_output;

use clap::{Parser, Subcommand};

/// Exit codes, as documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Other = 1,
    Usage = 2,
    Auth = 3,
    Database = 4,
}

/// A command that failed: the exit code and one sentence saying what failed and how to fix it.
#[derive(Debug)]
pub struct Failure {
    pub code: ExitCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::settings::SettingsError> for Failure {
    fn from(error: crate::settings::SettingsError) -> Self {
        Failure::new(ExitCode::Usage, error.0)
    }
}

const AFTER_HELP: &str = "\
Exit codes: 0 success (also when the client closes stdin, or on SIGTERM/SIGINT while serving);
2 usage or configuration error; 3 authentication failed; 4 database unreachable or schema not
migrated; 1 anything else.

Without MEM0_DATABASE_URL the embedded SQLite database in MEM0_DATA_DIR is used
(default: the platform data directory, e.g. ~/.local/share/mem0).";

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
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (the default when no command is given)
    Serve(serve::ServeArgs),
    /// Apply the embedded database migrations, or show which are applied
    Migrate(migrate::MigrateArgs),
    /// Manage access tokens: create, list, revoke, enable, delete, audit, stats, mint
    Token(token::TokenArgs),
}
