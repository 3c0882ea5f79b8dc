//! `mem0-mcp export` and `mem0-mcp import`: memories out to JSON Lines and back in, with the
//! same authentication, scope and permission rules as `serve` (the rules and formats are in
//! [`crate::service::portable`]; this file parses, calls and prints).

use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{ExitCode, Failure};
use crate::access::Principal;
use crate::auth::Credentials;
use crate::auth::acting::acting_principal;
use crate::mcp::ScopePlan;
use crate::memory::Scope;
use crate::service::portable::{self, ImportError, ImportFormat, ImportTarget};
use crate::settings::Settings;
use crate::store::{self, Backend, ExportFilter, MemoryStore};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Export this project (default: the project `serve` would use here)
    #[arg(long, value_name = "P", conflicts_with = "all_projects")]
    pub project: Option<String>,
    /// Export every project of the user
    #[arg(long)]
    pub all_projects: bool,
    /// Export every user's memories (needs the admin permission on PostgreSQL)
    #[arg(long)]
    pub all_users: bool,
    /// Write to FILE (created readable by you only) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The formats `import --from` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FromFormat {
    /// JSON Lines written by `mem0-mcp export`
    #[value(name = "mem0-mcp")]
    Mem0Mcp,
    /// A mem0 get_all JSON dump
    #[value(name = "mem0")]
    Mem0,
    /// The JSONL file of the reference memory server (@modelcontextprotocol/server-memory)
    #[value(name = "server-memory")]
    ServerMemory,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import
    pub file: PathBuf,
    /// The file's format
    #[arg(long = "from", value_enum, default_value = "mem0-mcp")]
    pub from: FromFormat,
    /// Put every imported memory in project P
    #[arg(long, value_name = "P")]
    pub project: Option<String>,
    /// Only count what would be added, unchanged and skipped; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Import the valid records and list the ones skipped (default: a bad record imports nothing)
    #[arg(long)]
    pub skip_invalid: bool,
    /// Print the counts as JSON
    #[arg(long)]
    pub json: bool,
}

/// The store, who acts, the scope `serve` would use here, and the one project a minted token
/// is limited to.
struct Session {
    store: std::sync::Arc<dyn MemoryStore>,
    principal: Principal,
    scope: Scope,
    project_limit: Option<String>,
}

impl Session {
    /// Refuses a project other than the one a minted token is limited to.
    fn check_project(&self, wanted: Option<&str>, all: bool) -> Result<(), Failure> {
        let Some(limit) = &self.project_limit else {
            return Ok(());
        };
        if all || wanted.is_some_and(|p| p != limit) {
            return Err(Failure::new(
                ExitCode::Auth,
                format!(
                    "this token is limited to project '{limit}': export or import that project only (without --all-projects, --all-users or another --project)"
                ),
            ));
        }
        Ok(())
    }
}

async fn open(settings: &Settings) -> Result<Session, Failure> {
    let stores = store::open_all(&settings.database, settings.timeout).await?;
    store::ensure_current(stores.memories.as_ref()).await?;
    let acting = acting_principal(
        stores.memories.backend(),
        stores.tokens.as_ref(),
        Credentials::from_settings(settings),
        settings.project_mode,
    )
    .await?;
    let (mode, project_id) = acting.project(settings.project_mode, settings.project_id.clone());
    let principal = acting.principal;
    let plan = ScopePlan {
        mode,
        user_id: principal.user_id.clone(),
        project_id,
        project_dir: settings.project_dir.clone(),
    };
    let scope = plan
        .without_client()
        .unwrap_or_else(|| plan.from_working_dir());
    Ok(Session {
        store: stores.memories,
        principal,
        scope,
        project_limit: acting.project,
    })
}

pub async fn export(args: &ExportArgs, settings: &Settings) -> Result<(), Failure> {
    let session = open(settings).await?;
    session.check_project(args.project.as_deref(), args.all_projects || args.all_users)?;
    let Session {
        store,
        principal,
        scope,
        ..
    } = session;
    if args.all_users && store.backend() == Backend::Postgres && !principal.permissions.admin {
        return Err(Failure::new(
            ExitCode::Auth,
            format!(
                "export --all-users needs the admin permission, and the token of '{}' does not have it: export your own memories (without --all-users) or use an admin token",
                principal.user_id
            ),
        ));
    }
    let filter = ExportFilter {
        owner: (!args.all_users).then(|| scope.owner_key().to_owned()),
        project: (!args.all_projects)
            .then(|| args.project.clone().unwrap_or(scope.project_id.clone())),
    };
    let written = match &args.output {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            portable::export(store.as_ref(), &filter, &mut out).await
        }
        Some(path) => export_to_file(store.as_ref(), &filter, path).await,
    }
    .map_err(|e| Failure::new(ExitCode::Other, e.to_string()))?;
    let place = args
        .output
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "stdout".into());
    eprintln!("Exported {written} memories to {place}.");
    Ok(())
}

/// Writes the export to a new owner-only file next to `path`, then renames it over `path`, so a
/// failed export leaves no half file and the result is never readable by others.
async fn export_to_file(
    store: &dyn MemoryStore,
    filter: &ExportFilter,
    path: &Path,
) -> Result<u64, portable::ExportError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&temporary).map_err(|e| {
        portable::ExportError::Write(std::io::Error::new(
            e.kind(),
            format!("cannot create {}: {e}", temporary.display()),
        ))
    })?;
    let mut out = std::io::BufWriter::new(file);
    let written = match portable::export(store, filter, &mut out).await {
        Ok(written) => written,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&temporary);
            return Err(e);
        }
    };
    let finished = out
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = finished {
        let _ = std::fs::remove_file(&temporary);
        return Err(portable::ExportError::Write(e));
    }
    Ok(written)
}

/// `[###############               ] 5000 / 10000 records`, for a terminal.
fn bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    format!(
        "[{}{}] {done} / {total} records",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

pub async fn import(args: &ImportArgs, settings: &Settings) -> Result<(), Failure> {
    let file = std::fs::File::open(&args.file).map_err(|e| {
        Failure::new(
            ExitCode::Usage,
            format!("cannot read {}: {e}", args.file.display()),
        )
    })?;
    let session = open(settings).await?;
    session.check_project(args.project.as_deref(), false)?;
    // A token limited to one project imports into that project only.
    let force_project = args.project.is_some() || session.project_limit.is_some();
    let Session {
        store,
        principal,
        scope,
        ..
    } = session;
    if !principal.permissions.write && !args.dry_run {
        return Err(Failure::new(
            ExitCode::Auth,
            "import needs the write permission, and this token is read-only: use a token with write (or --dry-run to only count)",
        ));
    }
    let target = ImportTarget {
        principal,
        project_id: args.project.clone().unwrap_or(scope.project_id.clone()),
        force_project,
    };
    let format = match args.from {
        FromFormat::Mem0Mcp => ImportFormat::Mem0Mcp,
        FromFormat::Mem0 => ImportFormat::Mem0,
        FromFormat::ServerMemory => ImportFormat::ServerMemory,
    };
    let progress = std::io::stderr().is_terminal() && !args.json;
    if progress {
        eprintln!("Reading {}…", args.file.display());
    }
    let parsed = portable::parse(format, &mut BufReader::new(file), &target)
        .map_err(|e| Failure::new(ExitCode::Usage, format!("{}: {e}", args.file.display())))?;
    let records = parsed.records.len();
    let show = |done: usize, total: usize| {
        if progress {
            eprint!("\r{}", bar(done, total));
        }
    };
    show(0, records);
    let report = portable::import(
        store.as_ref(),
        parsed,
        settings.max_memories_per_context,
        args.dry_run,
        args.skip_invalid,
        &show,
    )
    .await;
    if report.is_ok() {
        show(records, records);
    }
    if progress {
        eprintln!();
    }
    let report = report.map_err(|e| match e {
        ImportError::Line(_) => {
            Failure::new(ExitCode::Other, format!("{}: {e}", args.file.display()))
        }
        ImportError::Memory(e) => Failure::new(ExitCode::Database, e.to_string()),
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string(&report).unwrap_or_default()
        );
        return Ok(());
    }
    let verb = if report.dry_run {
        "Would import"
    } else {
        "Imported"
    };
    let _ = writeln!(
        out,
        "{verb} {}: {} added, {} unchanged, {} skipped.",
        args.file.display(),
        report.added,
        report.unchanged,
        report.skipped
    );
    for skipped in &report.skipped_lines {
        let _ = writeln!(out, "  skipped line {}: {}", skipped.line, skipped.reason);
    }
    Ok(())
}
