//! Writing the user's files safely: a file is replaced atomically (a temporary file in the same
//! directory, then a rename), an existing file is first copied to `<file>.bak-<timestamp>` next
//! to it, and secret files are created readable by their owner only (mode 0600, in a 0700
//! directory when the directory is new). Nothing here decides *what* to write.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What happened to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The file did not exist and was created.
    Created,
    /// The file existed; its previous content is in the backup.
    Replaced { backup: PathBuf },
    /// The file already had exactly this content; nothing was touched.
    Unchanged,
}

/// Who may read a file written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Owner-only (0600): secrets, and files that reference them.
    Private,
    /// The mode an existing file had, or the umask default for a new one.
    Keep,
}

/// Writes `content` to `path` atomically, keeping a backup of a different previous content.
pub fn write(path: &Path, content: &[u8], access: Access) -> std::io::Result<Written> {
    let existing = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if existing.as_deref() == Some(content) {
        if access == Access::Private {
            restrict(path)?;
        }
        return Ok(Written::Unchanged);
    }
    let dir = parent_dir(path);
    create_dir(&dir, access)?;
    let backup = match &existing {
        Some(_) => Some(backup(path)?),
        None => None,
    };
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ))
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    // tempfile creates the file 0600; a non-secret file keeps the mode the old one had.
    #[cfg(unix)]
    if access == Access::Keep {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o7777,
            Err(_) => 0o644,
        };
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode))?;
    }
    temp.write_all(content)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(match backup {
        Some(backup) => Written::Replaced { backup },
        None => Written::Created,
    })
}

/// Writes `content` to `path` atomically and owner-only or keeping the mode, without a backup:
/// for files mem0-mcp owns entirely (the trust store), whose old content is worth nothing.
pub fn replace(path: &Path, content: &[u8], access: Access) -> std::io::Result<()> {
    let dir = parent_dir(path);
    create_dir(&dir, access)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".mem0.")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(content)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    if access == Access::Private {
        restrict(path)?;
    }
    Ok(())
}

/// Copies `path` to `<path>.bak-<UTC timestamp>` (a numbered suffix if that exists too), with
/// the same permissions, and returns the backup's path.
pub fn backup(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut candidate = path.with_file_name(format!("{name}.bak-{stamp}"));
    let mut n = 1;
    while candidate.exists() {
        n += 1;
        candidate = path.with_file_name(format!("{name}.bak-{stamp}-{n}"));
    }
    // copy() carries the permission bits over, so a backup of a secret stays private.
    std::fs::copy(path, &candidate)?;
    Ok(candidate)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates a missing directory (0700 for private files), leaving an existing one as it is.
fn create_dir(dir: &Path, access: Access) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    #[cfg(not(unix))]
    let _ = access;
    builder.create(dir)
}

fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Checks that `path` (which exists) is the current user's alone to change, as ssh checks
/// `~/.ssh`: owned by the current user and not writable by group or others. A database kept
/// in a directory another account owns or can write to is that account's to read and replace.
///
/// # Errors
///
/// A [`Problem`] naming the path, what is wrong and the command that fixes it.
#[cfg(unix)]
pub fn check_private(path: &Path, what: &str) -> Result<(), crate::problem::Problem> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let shown = path.display();
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(crate::problem::Problem::new(
            format!(
                "{what} {shown} belongs to another user (uid {}), who could read and change everything in it",
                meta.uid()
            ),
            format!("use a directory of your own (MEM0_DATA_DIR), or `chown {me} {shown}`"),
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(crate::problem::Problem::new(
            format!(
                "{what} {shown} can be written by {} (mode {mode:04o}), who could replace it",
                if mode & 0o002 != 0 {
                    "every user"
                } else {
                    "its group"
                }
            ),
            format!("chmod go-w {shown}"),
        ));
    }
    Ok(())
}

/// Where ownership and modes do not exist, there is nothing to check.
#[cfg(not(unix))]
pub fn check_private(_path: &Path, _what: &str) -> Result<(), crate::problem::Problem> {
    Ok(())
}

/// Whether group or others can read the file (always false where modes do not exist).
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_replace_with_backup_and_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.json");
        assert_eq!(
            write(&path, b"one", Access::Keep).unwrap(),
            Written::Created
        );
        assert_eq!(
            write(&path, b"one", Access::Keep).unwrap(),
            Written::Unchanged
        );
        let Written::Replaced { backup } = write(&path, b"two", Access::Keep).unwrap() else {
            panic!("expected a backup");
        };
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read(&backup).unwrap(), b"one");
        assert!(
            backup
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("config.json.bak-")
        );
        // A second replacement in the same second gets its own backup.
        let Written::Replaced { backup: second } = write(&path, b"three", Access::Keep).unwrap()
        else {
            panic!("expected a backup");
        };
        assert_ne!(backup, second);
        assert_eq!(std::fs::read(&second).unwrap(), b"two");
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_and_their_backups_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/token");
        write(&path, b"secret", Access::Private).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let Written::Replaced { backup } = write(&path, b"other", Access::Private).unwrap() else {
            panic!("expected a backup");
        };
        assert_eq!(mode(&backup), 0o600);
        assert!(!readable_by_others(&path));
        // A public file keeps its mode when replaced.
        let public = dir.path().join("public.json");
        std::fs::write(&public, b"{}").unwrap();
        std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&public, b"{\"a\":1}", Access::Keep).unwrap();
        assert_eq!(mode(&public), 0o640);
    }
}
