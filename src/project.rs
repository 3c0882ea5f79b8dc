//! Project identity: turns the directory an assistant works in into the id of the project that
//! scopes its memories, and checks the ids users set by hand in `manual` mode.
//!
//! The `auto` rules aim for one id per repository, whichever checkout, worktree, subdirectory or
//! clone URL it is reached from, and distinct ids for unrelated directories; `/` and the home
//! directory stand for no project and fall back to [`DEFAULT_PROJECT`] with a warning for the
//! log. `.git` is read directly instead of running `git`, so deriving an id costs a few small
//! file reads and works where git is not installed.

use std::fs;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

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
        Some(checkout) => project_of_checkout(&checkout),
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
/// A message for the user naming the rejected value, what is wrong with it and the allowed form.
pub fn validate_project_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!(
            "PROJECT_ID is empty; it must be {ALLOWED_PROJECT_ID}"
        ));
    }
    let shown = preview(id);
    if id.trim() != id {
        return Err(format!(
            "PROJECT_ID {shown} has leading or trailing whitespace; it must be {ALLOWED_PROJECT_ID}"
        ));
    }
    let length = id.chars().count();
    if length > MAX_PROJECT_ID_CHARS {
        return Err(format!(
            "PROJECT_ID {shown} is {length} characters long; it must be {ALLOWED_PROJECT_ID}"
        ));
    }
    if let Some(bad) = id.chars().find(|&c| !is_project_id_char(c)) {
        return Err(format!(
            "PROJECT_ID {shown} contains the character {bad:?}; it must be {ALLOWED_PROJECT_ID}"
        ));
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

// ---------------------------------------------------------------------------------------------
// Paths

/// Makes `path` absolute and resolves symlinks, so that one directory reached through different
/// spellings gets one id; a path that cannot be resolved (gone, unreadable) is still cleaned up
/// lexically so `/` and the home directory are recognised.
fn absolute_canonical(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
    };
    canonical_or_normalized(&absolute)
}

fn canonical_or_normalized(path: &Path) -> PathBuf {
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

fn is_filesystem_root(path: &Path) -> bool {
    path.parent().is_none()
}

fn final_component(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Finding the repository

/// A directory that holds a `.git` entry.
#[derive(Debug)]
struct Checkout {
    top_level: PathBuf,
    /// `None` when a `.git` file points at nothing readable; the checkout is still a repository
    /// root, just one whose config cannot be read.
    git_dir: Option<PathBuf>,
}

/// Walks up from `dir` to the nearest `.git`. The walk stops below `home`: a repository rooted
/// at the home directory is a dotfiles repository, and letting it claim every non-repository
/// directory under home would pour unrelated projects into one.
fn find_checkout(dir: &Path, home: Option<&Path>) -> Option<Checkout> {
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

fn project_of_checkout(checkout: &Checkout) -> DerivedProject {
    let Some(git_dir) = &checkout.git_dir else {
        return top_level_project(&checkout.top_level);
    };
    let common_dir = common_dir_of(git_dir);
    let config = fs::read_to_string(common_dir.join("config"))
        .map(|text| GitConfig::parse(&text))
        .unwrap_or_default();
    let main_root = main_checkout_root(&checkout.top_level, git_dir, &common_dir, &config);
    match config
        .origin_url()
        .and_then(|url| remote_identity(url, &main_root))
    {
        Some(identity) => DerivedProject {
            id: project_id(last_segment(&identity), identity.as_bytes()),
            source: ProjectSource::GitRemote,
            warning: None,
        },
        None => top_level_project(&main_root),
    }
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

fn top_level_project(root: &Path) -> DerivedProject {
    let name = final_component(root);
    let name = name.strip_suffix(".git").unwrap_or(&name);
    DerivedProject {
        id: project_id(name, root.as_os_str().as_encoded_bytes()),
        source: ProjectSource::GitTopLevel,
        warning: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Remote URLs

/// Normalizes an origin URL so every spelling of one repository gives one string: `host/path`
/// for network remotes, the absolute path for local ones. Network identities are lowercased
/// whole, because the big forges treat owner and repository names case-insensitively and a
/// clone typed with different case must not split a project's memories. Local paths keep
/// their case, as the filesystem does. Userinfo is dropped, so credentials never reach the id.
fn remote_identity(url: &str, base: &Path) -> Option<String> {
    let url = strip_transport_prefix(url.trim());
    if url.is_empty() {
        return None;
    }
    if let Some((scheme, rest)) = split_scheme(url) {
        if scheme.eq_ignore_ascii_case("file") {
            return Some(local_remote_identity(Path::new(rest), base));
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let path = path.split(['?', '#']).next().unwrap_or_default();
        return Some(network_identity(authority, path));
    }
    if let Some((authority, path)) = split_scp_like(url) {
        return Some(network_identity(authority, path));
    }
    Some(local_remote_identity(Path::new(url), base))
}

/// Drops git's `<transport>::<address>` remote-helper prefix, e.g. `persistent-https::`.
fn strip_transport_prefix(url: &str) -> &str {
    match url.split_once("::") {
        Some((transport, address)) if is_scheme_name(transport) => address,
        _ => url,
    }
}

fn split_scheme(url: &str) -> Option<(&str, &str)> {
    url.split_once("://")
        .filter(|(scheme, _)| is_scheme_name(scheme))
}

fn is_scheme_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// Splits git's scp-like `[user@]host:path`. As in git, a colon after a slash means a local
/// path, and a single letter before the colon is a Windows drive, not a host.
fn split_scp_like(url: &str) -> Option<(&str, &str)> {
    let (authority, path) = url.split_once(':')?;
    let is_drive_letter =
        authority.len() == 1 && authority.chars().all(|c| c.is_ascii_alphabetic());
    if authority.is_empty() || authority.contains('/') || is_drive_letter {
        return None;
    }
    Some((authority, path))
}

fn network_identity(authority: &str, path: &str) -> String {
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_userinfo, host)| host);
    let (host, path_prefix) = split_port(host_and_port);
    let path = path_prefix
        .into_iter()
        .chain(path.split('/'))
        .filter(|segment| !segment.is_empty())
        .collect::<Vec<_>>()
        .join("/")
        .to_lowercase();
    let path = strip_git_suffix(&path);
    let host = host.to_lowercase();
    if path.is_empty() {
        host
    } else {
        format!("{host}/{path}")
    }
}

/// Splits `host:port`. Anything after the colon that is not a port number is kept as the start
/// of the path, so the misspelling `ssh://host:org/repo` still matches `host:org/repo`.
fn split_port(host_and_port: &str) -> (&str, Option<&str>) {
    let (host, after_host) = match host_and_port.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((ipv6, rest)) => (ipv6, rest),
            None => (bracketed, ""),
        },
        None => match host_and_port.find(':') {
            Some(colon) => host_and_port.split_at(colon),
            None => (host_and_port, ""),
        },
    };
    let after_colon = after_host.strip_prefix(':').unwrap_or(after_host);
    if after_colon.chars().all(|c| c.is_ascii_digit()) {
        (host, None)
    } else {
        (host, Some(after_colon))
    }
}

/// A local remote, relative ones resolved against the main checkout as git resolves them from
/// the work tree.
fn local_remote_identity(path: &Path, base: &Path) -> String {
    let resolved = canonical_or_normalized(&base.join(path));
    let text = resolved.to_string_lossy();
    strip_git_suffix(&text).to_owned()
}

/// `repo.git/`, `repo.git` and `repo/.git` all name `repo`.
fn strip_git_suffix(path: &str) -> &str {
    let path = path.trim_end_matches('/');
    path.strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/')
}

fn last_segment(identity: &str) -> &str {
    identity.rsplit('/').next().unwrap_or(identity)
}

// ---------------------------------------------------------------------------------------------
// Ids

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

// ---------------------------------------------------------------------------------------------
// Git config

/// The entries of a git `config` file, in file order. Includes (`include.path`,
/// `includeIf`) and `url.<base>.insteadOf` rewrites are not followed: origin lives in the
/// repository's own config, and the URL normalization already equates the forms a rewrite
/// would produce.
#[derive(Debug, Default)]
struct GitConfig {
    entries: Vec<ConfigEntry>,
}

#[derive(Debug)]
struct ConfigEntry {
    /// Lowercased: section names are case-insensitive.
    section: String,
    /// Case-sensitive, except in the legacy `[section.subsection]` form.
    subsection: Option<String>,
    /// Lowercased: key names are case-insensitive.
    key: String,
    /// `None` for a bare key, which git reads as boolean true.
    value: Option<String>,
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

impl GitConfig {
    fn parse(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut chars = text.chars().peekable();
        let mut section: Option<(String, Option<String>)> = None;
        let mut entries = Vec::new();
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '#' | ';' => skip_line(&mut chars),
                '[' => {
                    chars.next();
                    section = parse_section_header(&mut chars);
                    if section.is_none() {
                        // Keys under a broken header must not land in the previous section.
                        skip_line(&mut chars);
                    }
                }
                c if c.is_ascii_alphabetic() => {
                    let (key, value) = parse_key_value(&mut chars);
                    if let Some((name, subsection)) = &section {
                        entries.push(ConfigEntry {
                            section: name.clone(),
                            subsection: subsection.clone(),
                            key,
                            value,
                        });
                    }
                }
                _ => skip_line(&mut chars),
            }
        }
        Self { entries }
    }

    fn values<'a>(
        &'a self,
        section: &'a str,
        subsection: Option<&'a str>,
        key: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |entry| {
                entry.section == section
                    && entry.subsection.as_deref() == subsection
                    && entry.key == key
            })
            .filter_map(|entry| entry.value.as_deref())
    }

    /// The first non-empty `remote.origin.url`: with several, git fetches from the first.
    fn origin_url(&self) -> Option<&str> {
        self.values("remote", Some("origin"), "url")
            .find(|url| !url.trim().is_empty())
    }
}

fn skip_line(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

fn skip_blanks(chars: &mut Chars<'_>) {
    while chars.next_if(|&c| c == ' ' || c == '\t').is_some() {}
}

/// Parses a header after its `[`, up to and including `]`; `None` when it is malformed.
fn parse_section_header(chars: &mut Chars<'_>) -> Option<(String, Option<String>)> {
    let mut name = String::new();
    while let Some(c) = chars.next_if(|&c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        name.push(c);
    }
    if name.is_empty() {
        return None;
    }
    if let Some((section, subsection)) = name.split_once('.') {
        chars.next_if_eq(&']')?;
        return Some((section.to_lowercase(), Some(subsection.to_lowercase())));
    }
    let section = name.to_lowercase();
    skip_blanks(chars);
    if chars.next_if_eq(&']').is_some() {
        return Some((section, None));
    }
    chars.next_if_eq(&'"')?;
    let mut subsection = String::new();
    loop {
        match chars.next_if(|&c| c != '\n')? {
            '"' => break,
            '\\' => subsection.push(chars.next_if(|&c| c != '\n')?),
            c => subsection.push(c),
        }
    }
    chars.next_if_eq(&']')?;
    Some((section, Some(subsection)))
}

/// Parses `key [= value]` and the rest of its line (or lines, with continuations).
fn parse_key_value(chars: &mut Chars<'_>) -> (String, Option<String>) {
    let mut key = String::new();
    while let Some(c) = chars.next_if(|&c| c.is_ascii_alphanumeric() || c == '-') {
        key.push(c.to_ascii_lowercase());
    }
    skip_blanks(chars);
    if chars.next_if_eq(&'=').is_some() {
        (key, Some(parse_value(chars)))
    } else {
        skip_line(chars);
        (key, None)
    }
}

/// Parses a value as git does: surrounding whitespace dropped, inner whitespace kept, `"`
/// quoting, backslash escapes, `#`/`;` comments outside quotes, `\` at the end of a line
/// continuing it.
fn parse_value(chars: &mut Chars<'_>) -> String {
    skip_blanks(chars);
    let mut value = String::new();
    // Whitespace outside quotes waits here until something follows it, so trailing
    // whitespace is dropped.
    let mut pending_blanks = String::new();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match c {
            '\n' => break,
            '#' | ';' if !in_quotes => {
                skip_line(chars);
                break;
            }
            '"' => {
                value.push_str(&pending_blanks);
                pending_blanks.clear();
                in_quotes = !in_quotes;
            }
            '\\' => {
                let escaped = match chars.next() {
                    None => break,
                    Some('\n') => continue,
                    Some('\r') if chars.next_if_eq(&'\n').is_some() => continue,
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('b') => '\u{8}',
                    Some(other) => other,
                };
                value.push_str(&pending_blanks);
                pending_blanks.clear();
                value.push(escaped);
            }
            c if !in_quotes && c.is_whitespace() => pending_blanks.push(c),
            c => {
                value.push_str(&pending_blanks);
                pending_blanks.clear();
                value.push(c);
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const GITHUB_IDENTITY: &str = "github.com/org/repo";

    fn hex8(identity: &str) -> String {
        let digest = Sha256::digest(identity.as_bytes());
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn expected_id(name: &str, identity: &str) -> String {
        format!("{name}-{}", hex8(identity))
    }

    fn path_identity(path: &Path) -> String {
        canonical(path).to_str().unwrap().to_owned()
    }

    fn canonical(path: &Path) -> PathBuf {
        fs::canonicalize(path).unwrap()
    }

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn origin_config(url: &str) -> String {
        format!(
            "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\
             [remote \"origin\"]\n\turl = {url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\
             [branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n"
        )
    }

    const NO_REMOTE_CONFIG: &str = "[core]\n\trepositoryformatversion = 0\n\tbare = false\n";

    /// A checkout whose `.git` is a directory.
    fn make_repo(root: &Path, config: &str) {
        write(&root.join(".git/HEAD"), "ref: refs/heads/main\n");
        write(&root.join(".git/config"), config);
        fs::create_dir_all(root.join(".git/objects")).unwrap();
    }

    /// A linked worktree as `git worktree add` lays it out, with an absolute gitdir.
    fn add_worktree(common_dir: &Path, worktree: &Path, name: &str) {
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

    fn derive(dir: &Path) -> DerivedProject {
        derive_project(dir, None)
    }

    fn assert_id_shape(id: &str) {
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

    const GITHUB_URL_FORMS: &[&str] = &[
        "git@github.com:Org/Repo.git",
        "ssh://git@github.com/Org/Repo.git",
        "ssh://git@github.com:22/Org/Repo",
        "https://github.com/Org/Repo",
        "https://user:pass@github.com/Org/Repo.git/",
        "git://github.com/Org/Repo.git",
        "http://GitHub.com/Org/Repo",
        "github.com:org/repo",
        "GIT@GITHUB.COM:ORG/REPO.GIT",
        "git+ssh://git@github.com/Org/Repo.git",
        "ssh://git@github.com:Org/Repo.git",
        "https://github.com/Org/Repo.git?ref=main#readme",
        "https://github.com//Org//Repo.git",
        "https://token@github.com/Org/Repo/.git",
        "persistent-https::https://github.com/Org/Repo",
        "  https://github.com/Org/Repo  ",
        "git@github.com:/Org/Repo.git",
    ];

    #[test]
    fn every_origin_url_form_gives_one_identity() {
        for url in GITHUB_URL_FORMS {
            assert_eq!(
                remote_identity(url, Path::new("/unused")).as_deref(),
                Some(GITHUB_IDENTITY),
                "{url}"
            );
        }
    }

    #[test]
    fn every_origin_url_form_gives_one_project_id() {
        let tmp = tempfile::tempdir().unwrap();
        for (index, url) in GITHUB_URL_FORMS.iter().enumerate() {
            let root = tmp.path().join(format!("checkout-{index}"));
            make_repo(&root, &origin_config(url));
            let project = derive(&root);
            assert_eq!(project.source, ProjectSource::GitRemote, "{url}");
            assert_eq!(project.id, expected_id("repo", GITHUB_IDENTITY), "{url}");
            assert_eq!(project.warning, None);
        }
    }

    #[test]
    fn other_network_urls_normalize_as_expected() {
        let cases = [
            (
                "https://gitlab.example.com:8443/Group/Sub/Proj.git",
                "gitlab.example.com/group/sub/proj",
            ),
            ("ssh://git@[::1]:2222/srv/repo.git", "::1/srv/repo"),
            ("user@host:~user/repo.git", "host/~user/repo"),
            ("ssh://host/~user/repo.git", "host/~user/repo"),
            ("https://example.com/", "example.com"),
        ];
        for (url, identity) in cases {
            assert_eq!(
                remote_identity(url, Path::new("/unused")).as_deref(),
                Some(identity),
                "{url}"
            );
        }
    }

    #[test]
    fn different_repositories_get_different_ids() {
        let urls = [
            "git@github.com:org/repo.git",
            "git@github.com:org/other.git",
            "git@github.com:someone/repo.git",
            "git@gitlab.com:org/repo.git",
        ];
        let tmp = tempfile::tempdir().unwrap();
        let mut ids: Vec<String> = urls
            .iter()
            .enumerate()
            .map(|(index, url)| {
                let root = tmp.path().join(format!("r{index}"));
                make_repo(&root, &origin_config(url));
                derive(&root).id
            })
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), urls.len(), "{ids:?}");
    }

    #[test]
    fn credentials_never_reach_the_identity() {
        let urls = [
            "https://alice:s3cret@github.com/org/repo.git",
            "https://ghp_s3cret@github.com/org/repo",
            "ssh://alice:s3cret@github.com:22/org/repo",
        ];
        let tmp = tempfile::tempdir().unwrap();
        for url in urls {
            let identity = remote_identity(url, Path::new("/unused")).unwrap();
            assert_eq!(identity, GITHUB_IDENTITY, "{url}");
            let root = tmp.path().join("repo");
            make_repo(&root, &origin_config(url));
            let project = derive(&root);
            assert!(!format!("{project:?}").contains("s3cret"), "{project:?}");
        }
    }

    #[test]
    fn local_path_remotes_use_the_path() {
        let base = Path::new("/work/checkout");
        let cases = [
            ("/srv/git/repo.git", "/srv/git/repo"),
            ("/srv/git/repo.git/", "/srv/git/repo"),
            ("/srv/git/repo/.git", "/srv/git/repo"),
            ("/srv/git/Repo", "/srv/git/Repo"),
            ("file:///srv/git/repo.git", "/srv/git/repo"),
            ("../repo.git", "/work/repo"),
            ("./mirror/repo.git", "/work/checkout/mirror/repo"),
            ("file://../repo.git", "/work/repo"),
        ];
        for (url, identity) in cases {
            assert_eq!(
                remote_identity(url, base).as_deref(),
                Some(identity),
                "{url}"
            );
        }
    }

    #[test]
    fn relative_local_remote_resolves_from_the_main_checkout() {
        let tmp = tempfile::tempdir().unwrap();
        let upstream = tmp.path().join("upstream.git");
        fs::create_dir_all(&upstream).unwrap();
        let main = tmp.path().join("checkout");
        make_repo(&main, &origin_config("../upstream.git"));
        let worktree = tmp.path().join("elsewhere/deeper/feature");
        add_worktree(&main.join(".git"), &worktree, "feature");

        let identity = format!("{}/upstream", path_identity(tmp.path()));
        let expected = expected_id("upstream", &identity);
        for dir in [&main, &worktree] {
            let project = derive(dir);
            assert_eq!(project.source, ProjectSource::GitRemote, "{dir:?}");
            assert_eq!(project.id, expected, "{dir:?}");
        }
        // The absolute spellings of the same remote agree.
        let absolute = tmp.path().join("other");
        make_repo(
            &absolute,
            &origin_config(&format!("file://{}", upstream.display())),
        );
        assert_eq!(derive(&absolute).id, expected);
    }

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
    fn config_parsing_finds_only_origin_url() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "comments and indentation",
                "# a comment\n; another\n  [remote \"origin\"]  # trailing\n\t  url   =   u1   ; note\n",
                Some("u1"),
            ),
            (
                "quoted value",
                "[remote \"origin\"]\n\turl = \"https://github.com/org/repo.git\"\n",
                Some("https://github.com/org/repo.git"),
            ),
            (
                "comment characters inside quotes",
                "[remote \"origin\"]\n\turl = \"/srv/a;b#c\" # real comment\n",
                Some("/srv/a;b#c"),
            ),
            (
                "partly quoted with escapes",
                "[remote \"origin\"]\n\turl = /srv/\"my repo\"\\\"x\n",
                Some("/srv/my repo\"x"),
            ),
            (
                "upstream before origin",
                "[remote \"upstream\"]\n\turl = up\n[remote \"origin\"]\n\turl = or\n",
                Some("or"),
            ),
            ("only upstream", "[remote \"upstream\"]\n\turl = up\n", None),
            (
                "origin after other sections",
                "[core]\n\tbare = false\n\turl = no\n[branch \"main\"]\n\turl = no\n\
                 [remote \"origin\"]\n\tfetch = +refs/heads/*\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "case-insensitive section and key",
                "[REMOTE \"origin\"]\n\tURL = yes\n",
                Some("yes"),
            ),
            (
                "case-sensitive subsection",
                "[remote \"Origin\"]\n\turl = no\n",
                None,
            ),
            (
                "legacy dotted header",
                "[remote.ORIGIN]\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "key on the header line",
                "[remote \"origin\"] url = yes\n",
                Some("yes"),
            ),
            (
                "pushurl only",
                "[remote \"origin\"]\n\tpushurl = no\n",
                None,
            ),
            (
                "first of several urls",
                "[remote \"origin\"]\n\turl = first\n\turl = second\n",
                Some("first"),
            ),
            (
                "repeated section",
                "[remote \"origin\"]\n\tfetch = x\n[core]\n[remote \"origin\"]\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "line continuation",
                "[remote \"origin\"]\n\turl = https://github.com/\\\norg/repo\n",
                Some("https://github.com/org/repo"),
            ),
            (
                "CRLF line endings",
                "[remote \"origin\"]\r\n\turl = yes\r\n",
                Some("yes"),
            ),
            (
                "escaped quote in subsection",
                "[remote \"or\\\"igin\"]\n\turl = no\n",
                None,
            ),
            ("bare key", "[remote \"origin\"]\n\turl\n", None),
            (
                "empty value skipped",
                "[remote \"origin\"]\n\turl =\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "broken header does not inherit",
                "[remote \"origin\"]\n[bad\n\turl = no\n",
                None,
            ),
            ("key before any section", "url = no\n", None),
            (
                "byte order mark",
                "\u{feff}[remote \"origin\"]\nurl = yes",
                Some("yes"),
            ),
            ("empty file", "", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(GitConfig::parse(text).origin_url(), *expected, "{name}");
        }
    }

    #[test]
    fn config_details_pick_the_right_project() {
        let tmp = tempfile::tempdir().unwrap();
        let cases = [
            (
                "# managed by hand\n[core]\n\tbare = false\n[remote \"upstream\"]\n\
                 \turl = git@github.com:upstream/fork.git\n[remote \"origin\"] ; mine\n\
                 \turl = \"git@github.com:Org/Repo.git\" # ssh\n",
                ProjectSource::GitRemote,
            ),
            (
                "[remote \"upstream\"]\n\turl = git@github.com:org/repo.git\n",
                ProjectSource::GitTopLevel,
            ),
            (
                "[remote \"origin\"]\n\turl = \"\"\n",
                ProjectSource::GitTopLevel,
            ),
        ];
        for (index, (config, source)) in cases.into_iter().enumerate() {
            let root = tmp.path().join(format!("repo{index}"));
            make_repo(&root, config);
            let project = derive(&root);
            assert_eq!(project.source, source, "{config}");
            if source == ProjectSource::GitRemote {
                assert_eq!(project.id, expected_id("repo", GITHUB_IDENTITY));
            } else {
                assert_eq!(
                    project.id,
                    expected_id(&format!("repo{index}"), &path_identity(&root))
                );
            }
        }
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
            let message = validate_project_id(id).unwrap_err();
            assert!(message.contains(reason), "{message}");
            assert!(message.contains("PROJECT_ID"), "{message}");
            assert!(message.contains("A-Z, a-z, 0-9"), "{message}");
            if !id.is_empty() && id.len() < 64 {
                assert!(message.contains(&format!("{id:?}")), "{message}");
            }
        }
        let huge = "y".repeat(10_000);
        let message = validate_project_id(&huge).unwrap_err();
        assert!(message.len() < 400, "{message}");
    }
}
