//! Finding the repository a directory belongs to: the nearest `.git` (a directory, or the
//! `gitdir:` file of a linked worktree or submodule), the directory shared by all its worktrees,
//! and the main checkout that stands for the whole repository. `.git` is read directly, never by
//! running `git`.

use std::fs;
use std::path::{Path, PathBuf};

use super::git_config::GitConfig;
use super::paths::canonical_or_normalized;

/// A directory that holds a `.git` entry.
#[derive(Debug)]
pub(super) struct Checkout {
    top_level: PathBuf,
    /// `None` when a `.git` file points at nothing readable; the checkout is still a repository
    /// root, just one whose config cannot be read.
    git_dir: Option<PathBuf>,
}

/// The repository a checkout belongs to, as the project rules need it.
#[derive(Debug)]
pub(super) struct Repository {
    /// The directory that stands for the whole repository (the main checkout, or the bare
    /// directory its worktrees share).
    pub main_root: PathBuf,
    /// The first non-empty `remote.origin.url`, as written in the config.
    pub origin_url: Option<String>,
}

/// Walks up from `dir` to the nearest `.git`. The walk stops below `home`: a repository rooted
/// at the home directory is a dotfiles repository, and letting it claim every non-repository
/// directory under home would pour unrelated projects into one.
pub(super) fn find_checkout(dir: &Path, home: Option<&Path>) -> Option<Checkout> {
    for candidate in dir.ancestors() {
        if Some(candidate) == home {
            return None;
        }
        let dot_git = candidate.join(".git");
        let Ok(metadata) = fs::metadata(&dot_git) else {
            continue;
        };
        let git_dir = if metadata.is_dir() {
            Some(dot_git)
        } else {
            git_dir_from_dot_git_file(&dot_git, candidate)
        };
        return Some(Checkout {
            top_level: candidate.to_path_buf(),
            git_dir,
        });
    }
    None
}

impl Checkout {
    /// The repository this checkout belongs to: its main root and its `origin`, read from the
    /// config all worktrees share.
    pub(super) fn repository(&self) -> Repository {
        let Some(git_dir) = &self.git_dir else {
            return Repository {
                main_root: self.top_level.clone(),
                origin_url: None,
            };
        };
        let common_dir = common_dir_of(git_dir);
        let config = fs::read_to_string(common_dir.join("config"))
            .map(|text| GitConfig::parse(&text))
            .unwrap_or_default();
        Repository {
            main_root: main_checkout_root(&self.top_level, git_dir, &common_dir, &config),
            origin_url: config.origin_url().map(str::to_owned),
        }
    }
}

/// Reads the `gitdir: <path>` line that worktrees and submodules keep in their `.git` file.
fn git_dir_from_dot_git_file(dot_git: &Path, top_level: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(dot_git).ok()?;
    let target = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("gitdir:"))
        .map(str::trim)
        .filter(|target| !target.is_empty())?;
    let git_dir = canonical_or_normalized(&top_level.join(target));
    git_dir.is_dir().then_some(git_dir)
}

/// The directory shared by all worktrees of a repository, where `config` lives.
fn common_dir_of(git_dir: &Path) -> PathBuf {
    fs::read_to_string(git_dir.join("commondir"))
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|relative| !relative.is_empty())
        .map(|relative| canonical_or_normalized(&git_dir.join(relative)))
        .unwrap_or_else(|| git_dir.to_path_buf())
}

/// The directory that stands for the whole repository, so every worktree of it gets the id of
/// the main checkout.
fn main_checkout_root(
    top_level: &Path,
    git_dir: &Path,
    common_dir: &Path,
    config: &GitConfig,
) -> PathBuf {
    let is_linked_worktree = common_dir != git_dir;
    if !is_linked_worktree {
        return top_level.to_path_buf();
    }
    if common_dir.file_name().is_some_and(|name| name == ".git")
        && let Some(parent) = common_dir.parent()
    {
        return parent.to_path_buf();
    }
    // A submodule's git dir lives in the superproject's `.git/modules/`; its checkout is
    // recorded in `core.worktree`.
    if let Some(worktree) = config.values("core", None, "worktree").last() {
        return canonical_or_normalized(&common_dir.join(worktree));
    }
    // A bare repository has no main checkout; the bare directory itself is what its
    // worktrees share.
    common_dir.to_path_buf()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::fixtures::*;
    use super::super::{DerivedProject, ProjectSource};

    #[test]
    fn git_directory_with_and_without_origin() {
        let tmp = tempfile::tempdir().unwrap();
        let with_origin = tmp.path().join("with-origin");
        make_repo(&with_origin, &origin_config("git@github.com:org/repo.git"));
        assert_eq!(
            derive(&with_origin),
            DerivedProject {
                id: expected_id("repo", GITHUB_IDENTITY),
                source: ProjectSource::GitRemote,
                warning: None,
            }
        );

        let without_origin = tmp.path().join("Local Repo");
        make_repo(&without_origin, NO_REMOTE_CONFIG);
        assert_eq!(
            derive(&without_origin),
            DerivedProject {
                id: expected_id("local-repo", &path_identity(&without_origin)),
                source: ProjectSource::GitTopLevel,
                warning: None,
            }
        );

        let no_config = tmp.path().join("no-config");
        write(&no_config.join(".git/HEAD"), "ref: refs/heads/main\n");
        let project = derive(&no_config);
        assert_eq!(project.source, ProjectSource::GitTopLevel);
        assert_eq!(
            project.id,
            expected_id("no-config", &path_identity(&no_config))
        );
    }

    #[test]
    fn nested_subdirectory_gets_the_repository_id() {
        let tmp = tempfile::tempdir().unwrap();
        for config in [
            origin_config("https://github.com/org/repo"),
            NO_REMOTE_CONFIG.into(),
        ] {
            let root = tmp.path().join("repo");
            make_repo(&root, &config);
            let nested = root.join("src/deep/er");
            fs::create_dir_all(&nested).unwrap();
            let expected = derive(&root);
            for dir in [
                nested.clone(),
                root.join("src"),
                root.join(".git"),
                nested.join("../.."),
            ] {
                assert_eq!(derive(&dir), expected, "{dir:?}");
            }
            fs::remove_dir_all(&root).unwrap();
        }
    }

    #[test]
    fn worktree_shares_the_main_checkout_id() {
        for config in [
            origin_config("git@github.com:org/repo.git"),
            NO_REMOTE_CONFIG.to_owned(),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let main = tmp.path().join("repo");
            make_repo(&main, &config);
            let first = tmp.path().join("repo-feature");
            let second = tmp.path().join("trees/hotfix");
            add_worktree(&main.join(".git"), &first, "repo-feature");
            add_worktree(&main.join(".git"), &second, "hotfix");
            fs::create_dir_all(second.join("src")).unwrap();

            let expected = derive(&main);
            let expected_source = if config.contains("origin") {
                ProjectSource::GitRemote
            } else {
                ProjectSource::GitTopLevel
            };
            assert_eq!(expected.source, expected_source);
            if expected_source == ProjectSource::GitTopLevel {
                assert_eq!(expected.id, expected_id("repo", &path_identity(&main)));
            }
            for dir in [&first, &second, &second.join("src")] {
                assert_eq!(derive(dir), expected, "{dir:?}");
            }
        }
    }

    #[test]
    fn worktrees_of_a_bare_repository_share_its_id() {
        let tmp = tempfile::tempdir().unwrap();
        let bare = tmp.path().join("repo.git");
        write(&bare.join("HEAD"), "ref: refs/heads/main\n");
        write(&bare.join("config"), "[core]\n\tbare = true\n");
        let first = tmp.path().join("one");
        let second = tmp.path().join("two");
        add_worktree(&bare, &first, "one");
        add_worktree(&bare, &second, "two");
        let project = derive(&first);
        assert_eq!(project.source, ProjectSource::GitTopLevel);
        assert_eq!(project.id, expected_id("repo", &path_identity(&bare)));
        assert_eq!(derive(&second), project);
    }

    #[test]
    fn submodule_with_relative_gitdir() {
        let tmp = tempfile::tempdir().unwrap();
        let superproject = tmp.path().join("super");
        make_repo(
            &superproject,
            &origin_config("git@github.com:org/super.git"),
        );
        let module_git_dir = superproject.join(".git/modules/lib");
        write(&module_git_dir.join("HEAD"), "ref: refs/heads/main\n");
        let submodule = superproject.join("lib");
        write(&submodule.join(".git"), "gitdir: ../.git/modules/lib\n");
        fs::create_dir_all(submodule.join("src")).unwrap();

        let with_origin = format!(
            "{}\tworktree = ../../../lib\n{}",
            "[core]\n\tbare = false\n",
            "[remote \"origin\"]\n\turl = https://github.com/org/lib.git\n"
        );
        write(&module_git_dir.join("config"), &with_origin);
        let expected = DerivedProject {
            id: expected_id("lib", "github.com/org/lib"),
            source: ProjectSource::GitRemote,
            warning: None,
        };
        assert_eq!(derive(&submodule), expected);
        assert_eq!(derive(&submodule.join("src")), expected);
        assert_ne!(derive(&superproject).id, expected.id);

        write(
            &module_git_dir.join("config"),
            "[core]\n\tbare = false\n\tworktree = ../../../lib\n",
        );
        let project = derive(&submodule.join("src"));
        assert_eq!(project.source, ProjectSource::GitTopLevel);
        assert_eq!(project.id, expected_id("lib", &path_identity(&submodule)));

        // A worktree of the submodule finds the submodule's checkout through core.worktree.
        let module_worktree = tmp.path().join("lib-feature");
        add_worktree(&module_git_dir, &module_worktree, "lib-feature");
        assert_eq!(derive(&module_worktree), project);
    }

    #[test]
    fn dot_git_file_pointing_nowhere_is_still_a_top_level() {
        let tmp = tempfile::tempdir().unwrap();
        for text in ["gitdir: ../missing\n", "garbage\n", ""] {
            let root = tmp.path().join("broken");
            write(&root.join(".git"), text);
            fs::create_dir_all(root.join("sub")).unwrap();
            let project = derive(&root.join("sub"));
            assert_eq!(project.source, ProjectSource::GitTopLevel, "{text:?}");
            assert_eq!(project.id, expected_id("broken", &path_identity(&root)));
        }
    }
}
