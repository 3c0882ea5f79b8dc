//! Getting the `builtin` model: downloads the files of a model2vec model (by default
//! minishlab/potion-base-8M, MIT, from Hugging Face) into a directory, verifying each file
//! against the checksum the server publishes with it, and installs it only when every file
//! matches and the model loads. Nothing half-installed is ever left in place.
//!
//! Checksums: Hugging Face answers a file with an `ETag` (or, for a file kept in Git LFS and
//! served from elsewhere, an `X-Linked-Etag` on the redirect) that is the file's SHA-256 (64
//! hex digits) or, for a small file kept in git, its git blob SHA-1 (40 hex digits:
//! `sha1("blob <len>\0" + bytes)`). A file served without either is refused.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha1::Digest as _;
use sha2::Digest as _;

use super::builtin::{BuiltinModel, MODEL_FILES};

pub use crate::settings::embeddings::DEFAULT_MODEL_URL;

/// Largest file accepted, in bytes (potion-base-8M's weights are about 30 MB).
const MAX_FILE_BYTES: u64 = 1 << 30;
/// Longest wait for a server to accept the connection or answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a file's body may take to arrive (potion-base-8M takes seconds on a broadband line).
const BODY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Most redirects followed for one file.
const MAX_REDIRECTS: usize = 5;

/// What was installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The model directory.
    pub dir: PathBuf,
    /// Total size of its files, in bytes.
    pub bytes: u64,
    /// Dimensions of the vectors the model makes.
    pub dims: usize,
}

/// Why the model was not installed. `Display` names the file or URL and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    /// A model is already in the directory and `force` was not given.
    #[error("a model is already installed in {0}; pass --force to download and replace it")]
    AlreadyInstalled(PathBuf),
    /// The server could not be reached or answered with an error.
    #[error("{0}")]
    Download(String),
    /// A file's digest or checksum header is wrong or missing.
    #[error("{0}")]
    Checksum(String),
    /// The files do not load as a model, or cannot be written.
    #[error("{0}")]
    Install(String),
}

/// Downloads the model files from `base_url` into `dir`, replacing a model already there
/// only when `force` is set. `progress(file, done_bytes, total_bytes)` is called as bytes
/// arrive. Blocking: network and disk.
pub fn install(
    base_url: &str,
    dir: &Path,
    force: bool,
    mut progress: impl FnMut(&str, u64, Option<u64>),
) -> Result<Installed, InstallError> {
    if dir.join("model.safetensors").exists() && !force {
        return Err(InstallError::AlreadyInstalled(dir.to_owned()));
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| InstallError::Install(format!("cannot create {}: {e}", parent.display())))?;
    let staging = tempfile::Builder::new()
        .prefix(".model-download-")
        .tempdir_in(parent)
        .map_err(|e| {
            InstallError::Install(format!(
                "cannot create a download directory in {}: {e}",
                parent.display()
            ))
        })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(CONNECT_TIMEOUT))
        .timeout_recv_body(Some(BODY_TIMEOUT))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let base = base_url.trim_end_matches('/');
    let mut bytes = 0;
    for name in MODEL_FILES {
        let url = format!("{base}/{name}");
        let body = fetch(&agent, &url, name, &mut progress)?;
        bytes += body.len() as u64;
        let path = staging.path().join(name);
        std::fs::write(&path, &body)
            .map_err(|e| InstallError::Install(format!("cannot write {}: {e}", path.display())))?;
    }
    let model = BuiltinModel::load(staging.path()).map_err(|e| {
        InstallError::Install(format!(
            "the files downloaded from {base} do not load as a model2vec model: {e}"
        ))
    })?;
    replace(staging.path(), dir)?;
    Ok(Installed {
        dir: dir.to_owned(),
        bytes,
        dims: model.dims(),
    })
}

/// Moves `staging` to `dir`, keeping the old model aside until the new one is in place.
fn replace(staging: &Path, dir: &Path) -> Result<(), InstallError> {
    let failed = |e: std::io::Error| {
        InstallError::Install(format!("cannot move the model into {}: {e}", dir.display()))
    };
    let old = staging.with_extension("old");
    let had_old = dir.exists();
    if had_old {
        std::fs::rename(dir, &old).map_err(failed)?;
    }
    if let Err(e) = std::fs::rename(staging, dir) {
        if had_old {
            let _ = std::fs::rename(&old, dir);
        }
        return Err(failed(e));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}

/// Downloads one file, following redirects, and checks it against the first checksum header
/// seen on the way.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    name: &str,
    progress: &mut impl FnMut(&str, u64, Option<u64>),
) -> Result<Vec<u8>, InstallError> {
    let mut current = url.to_owned();
    let mut expected: Option<String> = None;
    for _ in 0..=MAX_REDIRECTS {
        let mut response = agent.get(&current).call().map_err(|e| {
            InstallError::Download(format!(
                "cannot download {name} from {current}: {e}; check the network, or set MEM0_MODEL_URL to a mirror"
            ))
        })?;
        if expected.is_none() {
            expected = checksum_header(response.headers());
        }
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| {
                    InstallError::Download(format!(
                        "{current} answered {status} without a Location for {name}"
                    ))
                })?;
            current = resolve(&current, location);
            continue;
        }
        if !status.is_success() {
            return Err(InstallError::Download(format!(
                "cannot download {name}: {current} answered {status}; check MEM0_MODEL_URL"
            )));
        }
        let total = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|l| l.to_str().ok()?.parse().ok());
        let mut reader = response
            .body_mut()
            .with_config()
            .limit(MAX_FILE_BYTES)
            .reader();
        let mut body = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let read = reader.read(&mut chunk).map_err(|e| {
                InstallError::Download(format!("downloading {name} from {current} failed: {e}"))
            })?;
            if read == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..read]);
            progress(name, body.len() as u64, total);
        }
        let expected = expected.ok_or_else(|| {
            InstallError::Checksum(format!(
                "{url} was served without a checksum (no ETag or X-Linked-Etag header), so {name} cannot be verified; nothing was installed; use a server that publishes one (Hugging Face does)"
            ))
        })?;
        verify(name, &expected, &body)?;
        return Ok(body);
    }
    Err(InstallError::Download(format!(
        "cannot download {name}: {url} redirected more than {MAX_REDIRECTS} times"
    )))
}

/// The digest published with a response: `X-Linked-Etag` (LFS files behind a redirect) or
/// `ETag`, without quotes or a weak-validator prefix.
fn checksum_header(headers: &http::HeaderMap) -> Option<String> {
    ["x-linked-etag", "etag"].iter().find_map(|h| {
        let value = headers.get(*h)?.to_str().ok()?.trim();
        let value = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
        (!value.is_empty()).then(|| value.to_ascii_lowercase())
    })
}

/// An absolute URL for a `Location` relative to `from`.
fn resolve(from: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin_end = from
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| from[start..].find('/').map(|i| start + i))
        .unwrap_or(from.len());
    format!(
        "{}/{}",
        &from[..origin_end],
        location.trim_start_matches('/')
    )
}

/// Checks `body` against a published digest: 64 hex digits are a SHA-256, 40 a git blob SHA-1.
fn verify(name: &str, expected: &str, body: &[u8]) -> Result<(), InstallError> {
    let is_hex = expected.bytes().all(|b| b.is_ascii_hexdigit());
    let actual = match expected.len() {
        64 if is_hex => hex(&sha2::Sha256::digest(body)),
        40 if is_hex => {
            let mut hasher = sha1::Sha1::new();
            hasher.update(format!("blob {}\0", body.len()).as_bytes());
            hasher.update(body);
            hex(&hasher.finalize())
        }
        _ => {
            return Err(InstallError::Checksum(format!(
                "{name} was served with the checksum header '{expected}', which is neither a SHA-256 nor a git blob SHA-1, so it cannot be verified; nothing was installed"
            )));
        }
    };
    if actual != expected {
        return Err(InstallError::Checksum(format!(
            "{name} does not match its published checksum (expected {expected}, got {actual}); nothing was installed; retry, or check MEM0_MODEL_URL"
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_blob_digest_and_a_sha256_are_both_checked() {
        // `git hash-object` of "hello\n".
        verify("f", "ce013625030ba8dba906f756967f9e9ca394464a", b"hello\n").unwrap();
        verify(
            "f",
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
            b"hello\n",
        )
        .unwrap();
        let wrong = verify("f", "ce013625030ba8dba906f756967f9e9ca394464b", b"hello\n");
        assert!(matches!(wrong, Err(InstallError::Checksum(m)) if m.contains("expected")));
        assert!(verify("f", "abc", b"hello\n").is_err());
    }

    #[test]
    fn relative_locations_keep_the_origin() {
        assert_eq!(
            resolve("http://h:1/a/b", "/c/d"),
            "http://h:1/c/d".to_string()
        );
        assert_eq!(resolve("http://h/a", "https://x/y"), "https://x/y");
    }
}
