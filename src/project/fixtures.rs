//! Repositories laid out on disk as git lays them out, for the project tests.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{DerivedProject, MAX_SLUG_CHARS, derive_project, validate_project_id};

pub const GITHUB_IDENTITY: &str = "github.com/org/repo";

pub fn hex8(identity: &str) -> String {
    let digest = Sha256::digest(identity.as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn expected_id(name: &str, identity: &str) -> String {
    format!("{name}-{}", hex8(identity))
}

pub fn path_identity(path: &Path) -> String {
    canonical(path).to_str().unwrap().to_owned()
}

pub fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap()
}

pub fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

pub fn origin_config(url: &str) -> String {
    format!(
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\
         [remote \"origin\"]\n\turl = {url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\
         [branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n"
    )
}

pub const NO_REMOTE_CONFIG: &str = "[core]\n\trepositoryformatversion = 0\n\tbare = false\n";

/// A checkout whose `.git` is a directory.
pub fn make_repo(root: &Path, config: &str) {
    write(&root.join(".git/HEAD"), "ref: refs/heads/main\n");
    write(&root.join(".git/config"), config);
    fs::create_dir_all(root.join(".git/objects")).unwrap();
}

/// A linked worktree as `git worktree add` lays it out, with an absolute gitdir.
pub fn add_worktree(common_dir: &Path, worktree: &Path, name: &str) {
    let admin = common_dir.join("worktrees").join(name);
    write(&admin.join("HEAD"), "ref: refs/heads/feature\n");
    write(&admin.join("commondir"), "../..\n");
    write(
        &admin.join("gitdir"),
        &format!("{}\n", worktree.join(".git").display()),
    );
    write(
        &worktree.join(".git"),
        &format!("gitdir: {}\n", admin.display()),
    );
}

pub fn derive(dir: &Path) -> DerivedProject {
    derive_project(dir, None)
}

pub fn assert_id_shape(id: &str) {
    let (name, hex) = id.rsplit_once('-').unwrap();
    assert!(!name.is_empty() && name.len() <= MAX_SLUG_CHARS, "{id}");
    assert_eq!(hex.len(), 8, "{id}");
    assert!(
        hex.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{id}"
    );
    assert!(validate_project_id(id).is_ok(), "{id}");
}
