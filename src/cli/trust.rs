//! `mem0-mcp trust [FILE]` / `--list` / `--revoke FILE`: the project-local settings files
//! (`./.env`, `./mem0.config.json`) the user has reviewed, recorded by path and SHA-256 in the
//! config directory (see [`crate::settings::trust`]). Without FILE, both files of the working
//! directory that exist are trusted.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{ExitCode, Failure};
use crate::settings::config_file::{self, FILE_NAME};
use crate::settings::trust::{Read, TrustStore};

#[derive(Debug, Args)]
#[command(after_help = "\
A repository can ship a .env or mem0.config.json that points the server at its own database or
sends a secret file there; such a file in the working directory counts only after you trust it,
and again after each change. Files in the config directory (~/.config/mem0) and the file
--config / MEM0_CONFIG names are yours and need no trust.")]
pub struct TrustArgs {
    /// The file to trust (default: ./.env and ./mem0.config.json, those that exist)
    #[arg(value_name = "FILE", conflicts_with_all = ["list", "revoke"])]
    pub file: Option<PathBuf>,
    /// List the trusted files and whether each is unchanged
    #[arg(long, conflicts_with = "revoke")]
    pub list: bool,
    /// Stop trusting FILE
    #[arg(long, value_name = "FILE")]
    pub revoke: Option<PathBuf>,
}

pub fn run(args: &TrustArgs) -> Result<(), Failure> {
    let config_dir = config_file::config_dir().ok_or_else(|| {
        Failure::new(
            ExitCode::Usage,
            "cannot find the config directory (no home directory): set HOME",
        )
    })?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut store = TrustStore::load(Some(&config_dir));
    let mut out = std::io::stdout().lock();
    if args.list {
        if store.files.is_empty() {
            let _ = writeln!(out, "No files are trusted.");
        }
        for (path, entry) in &store.files {
            let status = match Read::file(path) {
                Ok(file) if file.sha256() == entry.sha256 => "trusted",
                Ok(_) => "changed (ignored until trusted again)",
                Err(_) => "missing",
            };
            let _ = writeln!(
                out,
                "{}  {status}  (since {})",
                path.display(),
                entry.trusted_at
            );
        }
        return Ok(());
    }
    if let Some(file) = &args.revoke {
        let path = std::fs::canonicalize(cwd.join(file)).unwrap_or_else(|_| cwd.join(file));
        if !store.revoke(&path) {
            return Err(Failure::new(
                ExitCode::Usage,
                format!(
                    "{} is not trusted: `mem0-mcp trust --list` shows the trusted files",
                    path.display()
                ),
            ));
        }
        save(&store, &config_dir)?;
        let _ = writeln!(out, "No longer trusted: {}", path.display());
        return Ok(());
    }
    let files: Vec<PathBuf> = match &args.file {
        Some(file) => vec![cwd.join(file)],
        None => [".env", FILE_NAME]
            .iter()
            .map(|name| cwd.join(name))
            .filter(|p| p.is_file())
            .collect(),
    };
    if files.is_empty() {
        return Err(Failure::new(
            ExitCode::Usage,
            format!(
                "there is no ./.env or ./{FILE_NAME} in {} to trust: name the file, e.g. `mem0-mcp trust path/to/.env`",
                cwd.display()
            ),
        ));
    }
    let mut trusted = Vec::new();
    for path in &files {
        let file = read(path)?;
        store.trust(&file);
        trusted.push(file);
    }
    save(&store, &config_dir)?;
    for file in trusted {
        let _ = writeln!(
            out,
            "Trusted {} (sha256 {}); it counts until its content changes.",
            file.path.display(),
            &file.sha256()[..16]
        );
    }
    Ok(())
}

fn read(path: &Path) -> Result<Read, Failure> {
    if !path.is_file() {
        return Err(Failure::new(
            ExitCode::Usage,
            format!("{} is not a file: fix the path", path.display()),
        ));
    }
    Read::file(path).map_err(|e| {
        Failure::new(
            ExitCode::Other,
            format!("cannot read {}: {e}; check its permissions", path.display()),
        )
    })
}

fn save(store: &TrustStore, config_dir: &Path) -> Result<(), Failure> {
    store.save(config_dir).map_err(|e| {
        Failure::new(
            ExitCode::Other,
            format!(
                "cannot write {}: {e}; check that directory's permissions",
                config_dir
                    .join(crate::settings::trust::TRUST_FILE)
                    .display()
            ),
        )
    })
}
