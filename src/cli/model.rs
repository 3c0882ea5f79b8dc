//! `mem0-mcp model install [--force]`: downloads the `builtin` provider's model (see
//! [`crate::embedding::install`]) into the data directory, with a progress bar when stderr is
//! a terminal and a summary on stdout.

use std::io::{IsTerminal, Write};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::{ExitCode, Failure};
use crate::embedding::install::{self, InstallError};
use crate::settings::Settings;
use crate::settings::embeddings::default_model_dir;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download minishlab/potion-base-8M (MIT) into MEM0_DATA_DIR/models/potion-base-8M,
    /// checksum verified; downloads from MEM0_MODEL_URL
    Install(InstallArgs),
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Replace a model already installed
    #[arg(long)]
    pub force: bool,
}

pub fn run(command: &ModelCommand, settings: &Settings) -> Result<(), Failure> {
    match command {
        ModelCommand::Install(args) => install_model(args, settings),
    }
}

fn install_model(args: &InstallArgs, settings: &Settings) -> Result<(), Failure> {
    let dir = default_model_dir(&settings.data_dir);
    let url = &settings.embeddings.model_url;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:18} {bar:40} {bytes}/{total_bytes} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = install::install(url, &dir, args.force, |file, done, total| {
        bar.set_message(file.to_owned());
        bar.set_length(total.unwrap_or(done));
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let installed = result.map_err(|e| match e {
        InstallError::AlreadyInstalled(_) => Failure::new(ExitCode::Usage, e.to_string()),
        e => Failure::new(ExitCode::Other, e.to_string()),
    })?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Installed the embedding model from {url} in {} ({:.1} MB, {} dimensions).\n\
         Enable semantic search with MEM0_EMBEDDING_PROVIDER=builtin (leave MEM0_EMBEDDING_MODEL \
         unset), then run `mem0-mcp reindex` for the memories you already have.",
        installed.dir.display(),
        installed.bytes as f64 / 1_000_000.0,
        installed.dims,
    );
    Ok(())
}
