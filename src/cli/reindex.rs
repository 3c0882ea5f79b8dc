//! `mem0-mcp reindex [--all-projects]`: embeds the memories that lack a vector of the
//! configured model (see [`crate::service::reindex`]), with a progress bar when stderr is a
//! terminal and a summary on stdout. Safe to interrupt and rerun.

use std::io::{IsTerminal, Write};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{ExitCode, Failure};
use crate::mcp::ScopePlan;
use crate::memory::GLOBAL_PROJECT;
use crate::project::ProjectMode;
use crate::service::Semantic;
use crate::service::reindex::{self, ReindexError};
use crate::settings::Settings;
use crate::store;

#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Every project in the database, not only the current one (of every user either way)
    #[arg(long)]
    pub all_projects: bool,
}

pub async fn run(args: &ReindexArgs, settings: &Settings) -> Result<(), Failure> {
    let store = store::open(&settings.database, settings.timeout).await?;
    store::ensure_current(store.as_ref()).await?;
    let project = if args.all_projects {
        None
    } else {
        Some(current_project(settings))
    };
    let semantic = Semantic::new(settings.embeddings.provider.clone());
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} memories embedded ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = reindex::reindex(
        store.as_ref(),
        &semantic,
        project.as_deref(),
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await;
    bar.finish_and_clear();
    let report = result.map_err(|e| match e {
        ReindexError::Store(e) => Failure::from(e),
        ReindexError::NoProvider(why) => Failure::new(ExitCode::Usage, why),
        e @ ReindexError::Provider { .. } => Failure::new(ExitCode::Other, e.to_string()),
    })?;
    let which = match &project {
        Some(project) => format!("project '{project}'"),
        None => "all projects".into(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Reindexed {which} with {}: {} embedded, {} already had a vector{}.",
        report.model,
        report.embedded,
        report.already,
        if report.skipped > 0 {
            format!(
                ", {} changed meanwhile (left to the server that changed them)",
                report.skipped
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The project the server would use here without a client's roots.
fn current_project(settings: &Settings) -> String {
    let plan = ScopePlan {
        mode: settings.project_mode,
        user_id: String::new(),
        project_id: settings.project_id.clone(),
        project_dir: settings.project_dir.clone(),
    };
    match settings.project_mode {
        ProjectMode::Global => GLOBAL_PROJECT.to_owned(),
        _ => {
            plan.without_client()
                .unwrap_or_else(|| plan.from_working_dir())
                .project_id
        }
    }
}
