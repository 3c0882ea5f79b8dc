//! What `init` tells the user on stdout: one line per step, ✓ done or ✗ failed, then what to
//! do next. Questions and notes go to stderr (see `prompt`), so stdout reads as a record of
//! what changed.

use std::io::Write;

use crate::cli::style::Style;
use crate::clients::{Client, Launch, shell_quote};
use crate::settings::sources::Kept;

/// Lines for stdout: what init did, one step each.
#[derive(Debug)]
pub(super) struct Report {
    pub style: Style,
}

impl Report {
    pub fn stdout() -> Self {
        Report {
            style: Style::stdout(),
        }
    }

    pub fn line(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.as_ref());
        let _ = out.flush();
    }

    /// `✓ what: detail`.
    pub fn done(&self, what: &str, detail: impl AsRef<str>) {
        self.line(format!(
            "{} {}: {}",
            self.style.pass(),
            self.style.bold(what),
            detail.as_ref()
        ));
    }

    /// `✗ what: detail`, for a step that failed without stopping init.
    pub fn problem(&self, what: &str, detail: impl AsRef<str>) {
        self.line(format!(
            "{} {}: {}",
            self.style.fail(),
            self.style.bold(what),
            detail.as_ref()
        ));
    }
}

/// What init set up, for its closing lines.
#[derive(Debug)]
pub(super) struct Outcome<'a> {
    pub clients: &'a [Client],
    pub postgres: bool,
    pub user_id: &'a str,
    pub token: Option<&'a Kept>,
    pub launch: &'a Launch,
    /// Whether mem0.config.json now names the database (then the shell needs no URL).
    pub wrote_config: bool,
}

/// The closing lines: how to restart each client, and for PostgreSQL the exports that give
/// this shell the same settings.
pub(super) fn next_steps(report: &Report, outcome: &Outcome<'_>) {
    report.line("");
    if outcome.clients.is_empty() {
        report.line("Done.");
    } else {
        let hints: Vec<&str> = outcome.clients.iter().map(|c| c.restart_hint()).collect();
        report.line(format!("Done. Next: {}.", hints.join("; ")));
    }
    if outcome.postgres {
        let launch = outcome.launch;
        let mut exports = vec![format!(
            "export MEM0_USER_ID={}",
            shell_quote(outcome.user_id)
        )];
        if let Some(Kept::File(path)) = outcome.token {
            exports.push(format!(
                "export MEM0_TOKEN_FILE={}",
                shell_quote(&path.display().to_string())
            ));
        }
        if !outcome.wrote_config
            && let Some(url) = launch.get("MEM0_DATABASE_URL")
        {
            exports.push(format!("export MEM0_DATABASE_URL={}", shell_quote(url)));
        }
        if let Some(path) = launch.get("MEM0_DB_PASSWORD_FILE") {
            exports.push(format!(
                "export MEM0_DB_PASSWORD_FILE={}",
                shell_quote(path)
            ));
        }
        report.line(format!(
            "To use the same settings in your shell (token list, token mint), add to ~/.bashrc or ~/.zshrc:\n  {}",
            exports.join("\n  ")
        ));
    }
    report.line("`mem0-mcp doctor` checks the whole setup at any time.");
}
