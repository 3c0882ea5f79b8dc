//! `mem0-mcp migrate [--status]`: applies the embedded migrations to the configured database,
//! or lists each one as applied or pending.

use std::io::Write;

use clap::Args;

use super::{ExitCode, Failure};
use crate::settings::Settings;
use crate::store::{self, MigrationState};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only show which migrations are applied and which are pending (exit 4 if any is pending)
    #[arg(long)]
    pub status: bool,
}

pub async fn run(args: &MigrateArgs, settings: &Settings) -> Result<(), Failure> {
    let store = store::open(&settings.database, settings.timeout).await?;
    let target = settings.database.describe();
    let mut out = std::io::stdout().lock();
    if args.status {
        let status = store.schema_status().await?;
        let _ = writeln!(out, "Database: {target}");
        for (migration, state) in &status.migrations {
            let state = match state {
                MigrationState::Applied { at } => {
                    format!("applied {}", at.format("%Y-%m-%d %H:%M:%S UTC"))
                }
                MigrationState::Pending => "pending".into(),
                MigrationState::Modified { at } => format!(
                    "applied {} from a different text than this binary's",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            };
            let _ = writeln!(out, "  {}_{}  {state}", migration.version, migration.name);
        }
        for version in &status.unknown_versions {
            let _ = writeln!(
                out,
                "  {version}  applied, unknown to this binary (it is older than the database)"
            );
        }
        let pending = status.pending().len();
        if pending > 0 {
            return Err(Failure::new(
                ExitCode::Database,
                format!("{pending} migration(s) pending: run `mem0-mcp migrate` to apply them"),
            ));
        }
        let _ = writeln!(out, "Schema is up to date.");
        return Ok(());
    }
    let applied = store.migrate().await?;
    if applied.is_empty() {
        let _ = writeln!(out, "Schema is up to date ({target}); nothing to apply.");
    } else {
        for migration in &applied {
            let _ = writeln!(out, "Applied {}_{}", migration.version, migration.name);
        }
        let _ = writeln!(out, "Schema is up to date ({target}).");
    }
    Ok(())
}
