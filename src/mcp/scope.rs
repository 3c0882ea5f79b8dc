//! Which scope a session acts on. `global` and `manual` are known at startup; `auto` needs a
//! directory: `PROJECT_DIR`, else the client's first MCP root, else the working directory. It is
//! resolved at the first tool call, so `initialize` never waits for it.

use std::path::{Path, PathBuf};

use crate::memory::{GLOBAL_PROJECT, Scope};
use crate::project;
use crate::project::ProjectMode;

#[derive(Debug, Clone)]
pub struct ScopePlan {
    pub mode: ProjectMode,
    pub user_id: String,
    pub project_id: Option<String>,
    pub project_dir: Option<PathBuf>,
}

impl ScopePlan {
    /// The scope when nothing from the client is needed to know it.
    pub fn without_client(&self) -> Option<Scope> {
        match self.mode {
            ProjectMode::Global => Some(self.scope(GLOBAL_PROJECT.into())),
            ProjectMode::Manual => Some(self.scope(self.project_id.clone().unwrap_or_default())),
            ProjectMode::Auto => self.project_dir.as_deref().map(|dir| self.from_dir(dir)),
        }
    }

    /// The `auto` scope of a directory.
    pub fn from_dir(&self, dir: &Path) -> Scope {
        let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        let derived = project::derive_project(dir, home.as_deref());
        if let Some(warning) = &derived.warning {
            tracing::warn!("{warning}");
        }
        tracing::info!(project.id = %derived.id, project.source = ?derived.source, dir = %dir.display(), "project resolved");
        self.scope(derived.id)
    }

    /// The `auto` scope of the working directory (no client roots).
    pub fn from_working_dir(&self) -> Scope {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        self.from_dir(&cwd)
    }

    fn scope(&self, project_id: String) -> Scope {
        Scope {
            user_id: self.user_id.clone(),
            project_id,
            mode: self.mode,
        }
    }
}

/// The local path of a `file://` root URI (percent-decoded), if it is one.
pub fn path_of_file_uri(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // file://host/path: only an empty host or localhost is local.
    let path = if rest.starts_with('/') {
        rest
    } else {
        rest.strip_prefix("localhost")?
    };
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) =
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?, 16)
        {
            decoded.push(byte);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(decoded).ok()?;
    Some(PathBuf::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris() {
        let cases = [
            ("file:///home/a/my%20repo", Some("/home/a/my repo")),
            ("file://localhost/srv/x", Some("/srv/x")),
            ("file://otherhost/srv/x", None),
            ("https://example.com/x", None),
            ("file:///tmp/100%", Some("/tmp/100%")),
        ];
        for (uri, want) in cases {
            assert_eq!(path_of_file_uri(uri), want.map(PathBuf::from), "{uri}");
        }
    }

    #[test]
    fn fixed_modes_need_no_client() {
        let plan = ScopePlan {
            mode: ProjectMode::Manual,
            user_id: "u".into(),
            project_id: Some("p".into()),
            project_dir: None,
        };
        assert_eq!(plan.without_client().unwrap().project_id, "p");
        let global = ScopePlan {
            mode: ProjectMode::Global,
            ..plan.clone()
        };
        assert_eq!(global.without_client().unwrap().project_id, GLOBAL_PROJECT);
        let auto = ScopePlan {
            mode: ProjectMode::Auto,
            ..plan
        };
        assert!(auto.without_client().is_none());
    }
}
