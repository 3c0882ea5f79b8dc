//! Trust in project-local settings files. A cloned repository can plant `./.env` and
//! `./mem0.config.json` in the directory a client starts the server in, so those two files
//! count only once the user has trusted them (as direnv's `allow`): `mem0-mcp trust FILE`
//! records the file's canonical path and the SHA-256 of its content in `trusted.json` in the
//! config directory (owner-only). A file that is not recorded, or whose content changed since,
//! is ignored with a warning naming the command that trusts it.
//!
//! The content is read once: the bytes hashed are the bytes parsed, so a file cannot be
//! swapped between the check and the use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{self, Access};
use crate::problem::Problem;

/// Largest settings file read for a trust decision (1 MiB).
pub const MAX_BYTES: u64 = 1024 * 1024;

/// The file in the config directory that records trusted files.
pub const TRUST_FILE: &str = "trusted.json";

/// One trusted file: the SHA-256 (hex) of the content the user trusted, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub sha256: String,
    pub trusted_at: String,
}

/// The trusted files, keyed by canonical path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustStore {
    #[serde(default)]
    pub files: BTreeMap<PathBuf, Entry>,
}

/// Why a project-local file was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distrust {
    /// Never trusted (or trust was revoked).
    Untrusted,
    /// Trusted once, but its content changed since.
    Changed,
    /// It could not be read (permissions, or over [`MAX_BYTES`]), so it cannot be checked.
    Unreadable,
}

/// A project-local file that was ignored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Absolute (canonical) path.
    pub path: PathBuf,
    pub reason: Distrust,
}

impl Ignored {
    /// The warning: which file, why, and the command that trusts it.
    pub fn problem(&self) -> Problem {
        let shown = self.path.display();
        let why = match self.reason {
            Distrust::Untrusted => "it is not trusted",
            Distrust::Changed => "it changed since it was trusted",
            Distrust::Unreadable => "it cannot be read or is larger than 1 MiB",
        };
        match self.reason {
            Distrust::Unreadable => Problem::new(
                format!("ignoring {shown}: {why}"),
                "fix its permissions, or remove it",
            ),
            _ => Problem::new(
                format!(
                    "ignoring {shown}: {why} (a project directory's settings count only once you trust them)"
                ),
                format!("review it, then run `mem0-mcp trust {shown}`"),
            ),
        }
    }
}

/// A file read for a trust decision: its canonical path and its content.
#[derive(Debug, Clone)]
pub struct Read {
    /// Canonical (absolute, symbolic links resolved): the key in the store.
    pub path: PathBuf,
    /// The whole content, as hashed and as parsed.
    pub bytes: Vec<u8>,
}

impl Read {
    /// Reads `path` (which must exist) once; a file over [`MAX_BYTES`] is an error, as no
    /// settings file is that large.
    ///
    /// # Errors
    ///
    /// The I/O error of resolving or reading it.
    pub fn file(path: &Path) -> std::io::Result<Read> {
        use std::io::Read as _;
        let path = std::fs::canonicalize(path)?;
        let mut bytes = Vec::new();
        std::fs::File::open(&path)?
            .take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "larger than 1 MiB, which no settings file is",
            ));
        }
        Ok(Read { path, bytes })
    }

    /// The SHA-256 of the content, 64 lowercase hex digits.
    pub fn sha256(&self) -> String {
        hex(&self.bytes)
    }
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl TrustStore {
    /// The store in `config_dir` (empty when there is none, it cannot be read, or another user
    /// owns it or can write to it: then nothing is trusted, which is the safe reading).
    pub fn load(config_dir: Option<&Path>) -> TrustStore {
        config_dir
            .map(|dir| dir.join(TRUST_FILE))
            .filter(|path| files::check_private(path, "the trust store").is_ok())
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Whether `file` may be used: `None` when it is trusted with this very content.
    pub fn check(&self, file: &Read) -> Option<Distrust> {
        match self.files.get(&file.path) {
            Some(entry) if entry.sha256 == file.sha256() => None,
            Some(_) => Some(Distrust::Changed),
            None => Some(Distrust::Untrusted),
        }
    }

    /// Records `file` with its current content.
    pub fn trust(&mut self, file: &Read) {
        self.files.insert(
            file.path.clone(),
            Entry {
                sha256: file.sha256(),
                trusted_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        );
    }

    /// Forgets `path`; whether it was recorded.
    pub fn revoke(&mut self, path: &Path) -> bool {
        self.files.remove(path).is_some()
    }

    /// Writes the store to `config_dir` (owner-only, atomically).
    ///
    /// # Errors
    ///
    /// The I/O error of creating the directory or writing the file.
    pub fn save(&self, config_dir: &Path) -> std::io::Result<()> {
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(self).unwrap_or_default()
        );
        files::replace(
            &config_dir.join(TRUST_FILE),
            text.as_bytes(),
            Access::Private,
        )
    }
}

/// Whether `path` lies inside `dir` (both resolved), so a file in the user's own config
/// directory needs no trust even when the server starts there.
pub fn is_inside(path: &Path, dir: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(dir)) {
        (Ok(path), Ok(dir)) => path.starts_with(dir),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_content_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, "PROJECT_ID_MODE=global\n").unwrap();
        let mut store = TrustStore::load(Some(dir.path()));
        let read = Read::file(&file).unwrap();
        assert_eq!(store.check(&read), Some(Distrust::Untrusted));
        store.trust(&read);
        store.save(dir.path()).unwrap();
        let store = TrustStore::load(Some(dir.path()));
        assert_eq!(store.check(&Read::file(&file).unwrap()), None);
        std::fs::write(&file, "PROJECT_ID_MODE=manual\n").unwrap();
        assert_eq!(
            store.check(&Read::file(&file).unwrap()),
            Some(Distrust::Changed)
        );
        assert!(!crate::files::readable_by_others(
            &dir.path().join(TRUST_FILE)
        ));
        // A store others can write to is not believed.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(TRUST_FILE);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
            assert!(TrustStore::load(Some(dir.path())).files.is_empty());
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut store = store;
        assert!(store.revoke(&read.path));
        assert!(!store.revoke(&read.path));
    }
}
