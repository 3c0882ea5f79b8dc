//! Paths as the project rules compare them: absolute, symlinks resolved, `.` and `..` folded,
//! so one directory reached through different spellings is one directory. Nothing here knows
//! about git.

use std::fs;
use std::path::{Component, Path, PathBuf};

/// Makes `path` absolute and resolves symlinks, so that one directory reached through different
/// spellings gets one id; a path that cannot be resolved (gone, unreadable) is still cleaned up
/// lexically so `/` and the home directory are recognised.
pub(super) fn absolute_canonical(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
    };
    canonical_or_normalized(&absolute)
}

/// The canonical path, or the lexically cleaned one when the path cannot be resolved.
pub(super) fn canonical_or_normalized(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| lexically_normalized(path))
}

/// Removes `.` and folds `..` without touching the filesystem.
fn lexically_normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `..` of the root is the root.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::CurDir | Component::ParentDir) | None => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub(super) fn is_filesystem_root(path: &Path) -> bool {
    path.parent().is_none()
}

/// The last component as text (lossy), empty for the root.
pub(super) fn final_component(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::super::ProjectSource;
    use super::super::fixtures::*;

    #[test]
    fn missing_directory_still_gets_a_path_id() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = canonical(tmp.path()).join("gone/./later/../app");
        let project = derive(&missing);
        assert_eq!(project.source, ProjectSource::Directory);
        let identity = format!("{}/gone/app", path_identity(tmp.path()));
        assert_eq!(project.id, expected_id("app", &identity));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_relative_paths_resolve_to_the_same_id() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real/app");
        fs::create_dir_all(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path().join("real"), &link).unwrap();
        assert_eq!(derive(&link.join("app")), derive(&real));
        assert_eq!(derive(&real.join("../app/.")), derive(&real));

        let cwd = std::env::current_dir().unwrap();
        assert_eq!(derive(Path::new(".")), derive(&cwd));
        assert_eq!(derive(Path::new("")), derive(&cwd));
    }
}
