//! The backup a bulk delete writes first: one JSONL file per delete in the backup directory
//! (`MEM0_DATA_DIR/backups` unless backups are off), owner-only, named after the time and the
//! project, each line one memory with its scope. If it cannot be written, nothing is deleted.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::memory::{Memory, Scope};

/// Writes `memories` of `scope` to a new file in `dir` (created owner-only if missing) and
/// syncs it to disk; returns its path.
///
/// Errors: any I/O error creating the directory or writing the file.
pub(super) fn write(dir: &Path, scope: &Scope, memories: &[Memory]) -> std::io::Result<PathBuf> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let project: String = scope
        .project_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let path = dir.join(format!("{stamp}-{project}.jsonl"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = std::io::BufWriter::new(options.open(&path)?);
    for memory in memories {
        let line = serde_json::json!({
            "id": memory.id,
            "user_id": memory.user_id,
            "project_id": scope.project_id,
            "mode": scope.mode,
            "content": memory.content,
            "tags": memory.tags,
            "metadata": memory.metadata,
            "created_at": memory.created_at,
            "updated_at": memory.updated_at,
            "expires_at": memory.expires_at,
        });
        serde_json::to_writer(&mut file, &line)?;
        file.write_all(b"\n")?;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    tracing::info!(path = %path.display(), count = memories.len(), "wrote backup before deleting");
    Ok(path)
}
