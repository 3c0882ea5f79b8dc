//! Project identity: turns the directory an assistant works in into the id of the project that
//! scopes its memories, and checks the ids users set by hand in `manual` mode.
//!
//! The `auto` rules aim for one id per repository, whichever checkout, worktree, subdirectory or
//! clone URL it is reached from, and distinct ids for unrelated directories; `/` and the home
//! directory stand for no project and fall back to [`DEFAULT_PROJECT`] with a warning for the
//! log. `.git` is read directly instead of running `git`, so deriving an id costs a few small
//! file reads and works where git is not installed.
//!
//! This module derives and validates ids; `paths` compares directories, `checkout` finds
//! the repository (worktrees, submodules, bare repositories), `remote` normalizes its
//! `origin` URL and `git_config` reads git's config format.

mod checkout;
#[cfg(test)]
mod fixtures;
mod git_config;
mod mode;
mod paths;
mod remote;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::problem::Problem;

pub use mode::ProjectMode;

use checkout::find_checkout;
use paths::{absolute_canonical, final_component, is_filesystem_root};
use remote::{last_segment, remote_identity};

/// Where the project id of `auto` mode came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSource {
    /// The normalized URL of the repository's `origin` remote.
    GitRemote,
    /// The path of the repository's main checkout, for a repository without `origin`.
    GitTopLevel,
    /// The path of a directory outside any repository.
    Directory,
    /// `/` or the home directory, which stand for no project: [`DEFAULT_PROJECT`].
    DefaultFallback,
}

impl ProjectSource {
    /// Where the id came from, for people: "its git remote origin", "its git checkout", ...
    pub fn describe(&self) -> &'static str {
        match self {
            ProjectSource::GitRemote => "its git remote origin",
            ProjectSource::GitTopLevel => "its git checkout",
            ProjectSource::Directory => "the directory's path",
            ProjectSource::DefaultFallback => "no project",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedProject {
    /// e.g. `mem0-mcp-1a2b3c4d`, or [`DEFAULT_PROJECT`].
    pub id: String,
    pub source: ProjectSource,
    /// Set for [`ProjectSource::DefaultFallback`]: one sentence for the log.
    pub warning: Option<String>,
}

pub const DEFAULT_PROJECT: &str = "default";

const MAX_SLUG_CHARS: usize = 40;
const MAX_PROJECT_ID_CHARS: usize = 128;
const ALLOWED_PROJECT_ID: &str =
    "1 to 128 characters from A-Z, a-z, 0-9 and . _ : / @ - with no surrounding whitespace";

/// Derives the project of `dir`; `home` is the user's home directory if known.
///
/// The id is `<slug>-<8 hex>`, the hex being the start of the SHA-256 of an identity string:
/// the normalized `origin` URL when the repository has one, else the absolute path of the
/// repository's main checkout, else the absolute path of `dir`.
pub fn derive_project(dir: &Path, home: Option<&Path>) -> DerivedProject {
    let dir = absolute_canonical(dir);
    let home = home.map(absolute_canonical);
    let is_root = is_filesystem_root(&dir);
    if is_root || home.as_deref() == Some(dir.as_path()) {
        return default_fallback(&dir, is_root);
    }
    match find_checkout(&dir, home.as_deref()) {
        Some(checkout) => project_of_repository(checkout.repository()),
        None => DerivedProject {
            id: project_id(&final_component(&dir), dir.as_os_str().as_encoded_bytes()),
            source: ProjectSource::Directory,
            warning: None,
        },
    }
}

/// Validates a user-supplied `PROJECT_ID` (manual mode): 1..=128 chars of `[A-Za-z0-9._:/@-]`,
/// no leading/trailing whitespace.
///
/// # Errors
///
/// A [`Problem`] naming the rejected value and what is wrong with it, with the allowed form as
/// the fix.
pub fn validate_project_id(id: &str) -> Result<(), Problem> {
    let rejected = |what: String| {
        Err(Problem::new(
            what,
            format!("it must be {ALLOWED_PROJECT_ID}"),
        ))
    };
    if id.is_empty() {
        return rejected("PROJECT_ID is empty".into());
    }
    let shown = preview(id);
    if id.trim() != id {
        return rejected(format!(
            "PROJECT_ID {shown} has leading or trailing whitespace"
        ));
    }
    let length = id.chars().count();
    if length > MAX_PROJECT_ID_CHARS {
        return rejected(format!("PROJECT_ID {shown} is {length} characters long"));
    }
    if let Some(bad) = id.chars().find(|&c| !is_project_id_char(c)) {
        return rejected(format!("PROJECT_ID {shown} contains the character {bad:?}"));
    }
    Ok(())
}

fn is_project_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '@' | '-')
}

/// Quotes a rejected value for an error message, cut short so a pasted blob cannot flood the log.
fn preview(value: &str) -> String {
    const SHOWN_CHARS: usize = 64;
    if value.chars().count() <= SHOWN_CHARS {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{head:?}…")
    }
}

fn default_fallback(dir: &Path, is_root: bool) -> DerivedProject {
    let place = if is_root {
        "the filesystem root"
    } else {
        "the home directory"
    };
    let warning = format!(
        "The working directory {} is {place}, so memories go to the shared `{DEFAULT_PROJECT}` \
         project; set PROJECT_DIR to the project's directory, or PROJECT_ID_MODE=manual with \
         PROJECT_ID, to keep each project's memories apart.",
        dir.display()
    );
    DerivedProject {
        id: DEFAULT_PROJECT.to_owned(),
        source: ProjectSource::DefaultFallback,
        warning: Some(warning),
    }
}

/// The project of a repository: its `origin` when it has one, else its main checkout's path.
fn project_of_repository(repository: checkout::Repository) -> DerivedProject {
    match repository
        .origin_url
        .and_then(|url| remote_identity(&url, &repository.main_root))
    {
        Some(identity) => DerivedProject {
            id: project_id(last_segment(&identity), identity.as_bytes()),
            source: ProjectSource::GitRemote,
            warning: None,
        },
        None => top_level_project(&repository.main_root),
    }
}

fn top_level_project(root: &Path) -> DerivedProject {
    let name = final_component(root);
    let name = name.strip_suffix(".git").unwrap_or(&name);
    DerivedProject {
        id: project_id(name, root.as_os_str().as_encoded_bytes()),
        source: ProjectSource::GitTopLevel,
        warning: None,
    }
}

fn project_id(name: &str, identity: &[u8]) -> String {
    let digest = Sha256::digest(identity);
    let prefix = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    format!("{}-{prefix:08x}", slug(name))
}

/// A readable, id-safe form of `name`: the hash suffix carries uniqueness, so losing characters
/// here is harmless.
fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.to_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && slug.ends_with('-')) {
            slug.push(c);
        }
    }
    let trimmed = trim_slug(&slug);
    // Only ASCII is left, so counting bytes counts characters.
    let shortened = trim_slug(&trimmed[..trimmed.len().min(MAX_SLUG_CHARS)]);
    if shortened.is_empty() {
        "project".to_owned()
    } else {
        shortened.to_owned()
    }
}

fn trim_slug(slug: &str) -> &str {
    slug.trim_matches(['-', '.'])
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::fixtures::*;
    use super::*;

    #[test]
    fn directory_without_git_gets_a_path_id() {
        let tmp = tempfile::tempdir().unwrap();
        let first = tmp.path().join("a/app");
        let second = tmp.path().join("b/app");
        fs::create_dir_all(&first).unwrap();
        fs::create_dir_all(&second).unwrap();
        let one = derive(&first);
        let two = derive(&second);
        assert_eq!(
            one,
            DerivedProject {
                id: expected_id("app", &path_identity(&first)),
                source: ProjectSource::Directory,
                warning: None,
            }
        );
        assert_eq!(two.source, ProjectSource::Directory);
        assert!(two.id.starts_with("app-"));
        assert_ne!(one.id, two.id);
        assert_id_shape(&one.id);
    }

    fn assert_default_fallback(project: &DerivedProject, place: &str) {
        assert_eq!(project.id, DEFAULT_PROJECT);
        assert_eq!(project.source, ProjectSource::DefaultFallback);
        let warning = project.warning.as_deref().unwrap();
        for needle in [
            place,
            "`default`",
            "PROJECT_DIR",
            "PROJECT_ID_MODE=manual",
            "PROJECT_ID",
        ] {
            assert!(
                warning.contains(needle),
                "{needle:?} missing from {warning}"
            );
        }
        assert!(!warning.contains('\n'), "{warning}");
    }

    #[test]
    fn filesystem_root_falls_back_to_default() {
        assert_default_fallback(&derive(Path::new("/")), "filesystem root");
        assert_default_fallback(&derive(Path::new("/tmp/..")), "filesystem root");
        let tmp = tempfile::tempdir().unwrap();
        assert_default_fallback(
            &derive_project(Path::new("/"), Some(tmp.path())),
            "filesystem root",
        );
        assert_default_fallback(
            &derive_project(Path::new("/"), Some(Path::new("/"))),
            "filesystem root",
        );
    }

    #[cfg(unix)]
    #[test]
    fn home_falls_back_to_default() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("alice");
        fs::create_dir_all(&home).unwrap();
        assert_default_fallback(&derive_project(&home, Some(&home)), "home directory");

        // Home given through a symlink, and home holding a dotfiles repository.
        let link = tmp.path().join("home-link");
        std::os::unix::fs::symlink(&home, &link).unwrap();
        make_repo(&home, &origin_config("git@github.com:alice/dotfiles.git"));
        assert_default_fallback(&derive_project(&home, Some(&link)), "home directory");
        assert_default_fallback(&derive_project(&link, Some(&home)), "home directory");
    }

    #[test]
    fn subdirectory_of_home_is_its_own_project() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("alice");
        let app = home.join("projects/app");
        fs::create_dir_all(&app).unwrap();
        let expected = DerivedProject {
            id: expected_id("app", &path_identity(&app)),
            source: ProjectSource::Directory,
            warning: None,
        };
        assert_eq!(derive_project(&app, Some(&home)), expected);

        // A dotfiles repository at home does not swallow the directories under it.
        make_repo(&home, &origin_config("git@github.com:alice/dotfiles.git"));
        assert_eq!(derive_project(&app, Some(&home)), expected);

        // A real repository under home still counts.
        let repo = home.join("projects/repo");
        make_repo(&repo, &origin_config("git@github.com:org/repo.git"));
        let project = derive_project(&repo.join("src"), Some(&home));
        assert_eq!(project.id, expected_id("repo", GITHUB_IDENTITY));
    }

    #[test]
    fn slug_edge_cases() {
        let long = "a".repeat(100);
        let forty = "a".repeat(40);
        let cut_at_dash = format!("{}-tail", "b".repeat(39));
        let thirty_nine_b = "b".repeat(39);
        let cases: &[(&str, &str)] = &[
            ("mem0-mcp", "mem0-mcp"),
            ("My Project", "my-project"),
            ("  spaced   out  ", "spaced-out"),
            ("Café Ünïcode", "caf-n-code"),
            ("日本語", "project"),
            ("ÄB", "b"),
            ("emoji ✨ name", "emoji-name"),
            ("a__b", "a__b"),
            ("v1.2.3", "v1.2.3"),
            ("..hidden..", "hidden"),
            ("--x--", "x"),
            ("a/b\\c:d@e", "a-b-c-d-e"),
            ("---", "project"),
            ("", "project"),
            (&long, &forty),
            (&cut_at_dash, &thirty_nine_b),
        ];
        for (name, expected) in cases {
            assert_eq!(slug(name), *expected, "{name:?}");
        }
    }

    #[test]
    fn odd_directory_names_give_valid_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let long_name = format!("A Very Long Project Name {}", "x".repeat(60));
        for name in ["My Project ✨", "日本語", ".hidden", long_name.as_str()] {
            let dir = tmp.path().join(name);
            fs::create_dir_all(&dir).unwrap();
            let id = derive(&dir).id;
            assert_id_shape(&id);
            assert!(id.len() <= MAX_SLUG_CHARS + 9, "{id}");
        }
        assert!(
            derive(&tmp.path().join("My Project ✨"))
                .id
                .starts_with("my-project-")
        );
        assert!(
            derive(&tmp.path().join("日本語"))
                .id
                .starts_with("project-")
        );
    }

    #[test]
    fn validate_project_id_accepts_the_allowed_form() {
        let longest = "x".repeat(128);
        for id in [
            "default",
            "my-project",
            "org/repo",
            "github.com:org/repo@main",
            "A.b_c-9",
            "x",
            longest.as_str(),
        ] {
            assert_eq!(validate_project_id(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn validate_project_id_rejects_with_a_clear_message() {
        let too_long = "x".repeat(129);
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            (" padded", "whitespace"),
            ("padded ", "whitespace"),
            ("line\n", "whitespace"),
            ("has space", "' '"),
            ("tab\tinside", "'\\t'"),
            ("café", "'é'"),
            ("semi;colon", "';'"),
            ("star*", "'*'"),
            (&too_long, "129 characters"),
        ];
        for (id, reason) in cases {
            let message = validate_project_id(id).unwrap_err().sentence();
            assert!(message.contains(reason), "{message}");
            assert!(message.contains("PROJECT_ID"), "{message}");
            assert!(message.contains("A-Z, a-z, 0-9"), "{message}");
            if !id.is_empty() && id.len() < 64 {
                assert!(message.contains(&format!("{id:?}")), "{message}");
            }
        }
        let huge = "y".repeat(10_000);
        let message = validate_project_id(&huge).unwrap_err().sentence();
        assert!(message.len() < 400, "{message}");
    }
}
