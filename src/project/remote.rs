//! Remote URLs as identities: every spelling git accepts for one repository (scp-like, ssh://,
//! https:// with or without credentials, `.git` suffixes, remote-helper prefixes, local paths
//! and `file://`) normalizes to one string, so clones of one repository share a project.

use std::path::Path;

use super::paths::canonical_or_normalized;

/// Normalizes an origin URL so every spelling of one repository gives one string: `host/path`
/// for network remotes, the absolute path for local ones. Network identities are lowercased
/// whole, because the big forges treat owner and repository names case-insensitively and a
/// clone typed with different case must not split a project's memories. Local paths keep
/// their case, as the filesystem does. Userinfo is dropped, so credentials never reach the id.
pub(super) fn remote_identity(url: &str, base: &Path) -> Option<String> {
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

pub(super) fn last_segment(identity: &str) -> &str {
    identity.rsplit('/').next().unwrap_or(identity)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::super::ProjectSource;
    use super::super::fixtures::*;
    use super::*;

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
}
