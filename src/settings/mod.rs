//! Settings: every value the server needs, resolved once at startup into a typed [`Settings`]
//! and passed down as a value (nothing reads the environment later).
//!
//! Sources, highest first: command-line flag (never for secrets) > environment > `NAME_FILE`
//! (secrets) > OS keychain (secrets) > `mem0.config.json` > `.env` > default. [`keys`] lists
//! every setting; [`sources`] applies the precedence; [`database`] turns the connection
//! settings into a database target, whose URL [`pg_url`] takes apart once; [`config_file`],
//! [`dotenv`], [`keychain`] and [`secret_file`] read one source each.
//!
//! Variables read: `MEM0_DATABASE_URL`, `MEM0_DB_HOST`, `MEM0_DB_PORT`, `MEM0_DB_NAME`,
//! `MEM0_DB_USER`, `MEM0_DB_PASSWORD`, `MEM0_DB_SSLMODE`, `MEM0_DB_SSLCERT`, `MEM0_DB_SSLKEY`,
//! `MEM0_DB_SSLROOTCERT`, `MEM0_JWT_SECRET`, `MEM0_TOKEN`, `MEM0_USER_ID`, `PROJECT_ID_MODE`,
//! `PROJECT_ID`, `PROJECT_DIR`, `MEM0_CONFIG`, `MEM0_DATA_DIR`, `MEM0_LOG`, `MEM0_TIMEOUT`,
//! `MEM0_HTTP_HOST`, `MEM0_HTTP_PORT`, `MEM0_HTTP_ALLOWED_ORIGINS`, `MEM0_HTTP_ALLOWED_HOSTS`,
//! `MEM0_HTTP_TRUSTED_PROXIES`,
//! `MEM0_HTTP_TLS_CERT`, `MEM0_HTTP_TLS_KEY`, `MEM0_HTTP_POOL_SIZE`, `MEM0_SERVER_URL`,
//! `MEM0_SERVER_CA`, `MEM0_STORAGE_TYPE`, `MEM0_DB_SECRET_SOURCE`,
//! `MEM0_BACKUP_ENABLED`, `MEM0_MAX_MEMORIES_PER_CONTEXT`, `MEM0_JWT_SECRET_SOURCE`,
//! `MEM0_DATABASE_AUTH_METHOD`, `MEM0_EMBEDDING_PROVIDER`, `MEM0_EMBEDDING_MODEL`,
//! `MEM0_EMBEDDING_URL`, and `NAME_FILE` for each secret.

pub mod config_file;
pub mod database;
pub mod dotenv;
pub mod embeddings;
pub mod keychain;
pub mod keys;
pub mod pg_url;
pub mod placeholder;
mod secret;
pub mod secret_file;
pub mod sources;
pub mod trust;

pub use database::{DatabaseTarget, SQLITE_FILE};
pub use embeddings::{EmbeddingProvider, EmbeddingSettings};
pub use keychain::Keychain;
pub use keys::SecretName;
pub use pg_url::PgUrl;
pub use secret::Secret;
pub use sources::{Resolved, Source};

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::problem::Problem;
use crate::project::ProjectMode;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseTarget,
    pub data_dir: PathBuf,
    pub user_id: Option<String>,
    pub token: Option<Secret>,
    pub jwt_secret: Option<Secret>,
    pub project_mode: ProjectMode,
    pub project_id: Option<String>,
    pub project_dir: Option<PathBuf>,
    pub max_memories_per_context: u64,
    pub timeout: Duration,
    pub backup_enabled: bool,
    pub log_filter: String,
    /// `server.host` / `MEM0_HTTP_HOST`: the address `serve --http` listens on.
    pub http_host: String,
    /// `server.port` / `MEM0_HTTP_PORT`.
    pub http_port: u16,
    /// `MEM0_HTTP_ALLOWED_ORIGINS`: browser origins accepted besides the server's own.
    pub http_allowed_origins: Vec<String>,
    /// `MEM0_HTTP_ALLOWED_HOSTS`: `Host` names accepted besides loopback ones (a reverse
    /// proxy's public name).
    pub http_allowed_hosts: Vec<String>,
    /// `MEM0_HTTP_TRUSTED_PROXIES`: reverse proxies (addresses or CIDR networks) whose
    /// `X-Forwarded-For` names the client; empty: the header is ignored.
    pub http_trusted_proxies: Vec<ipnet::IpNet>,
    /// `MEM0_HTTP_TLS_CERT` and `MEM0_HTTP_TLS_KEY`: PEM files; both or neither.
    pub http_tls: Option<(PathBuf, PathBuf)>,
    /// `MEM0_HTTP_POOL_SIZE`: database connections `serve --http` shares among all requests.
    pub http_pool_size: u32,
    /// `MEM0_SERVER_URL`: a team server that stdio sessions forward to (the bridge).
    pub server_url: Option<String>,
    /// `MEM0_SERVER_CA`: a PEM file of extra roots trusted for the team server.
    pub server_ca: Option<PathBuf>,
    /// Semantic search: which embedding provider, and its model.
    pub embeddings: EmbeddingSettings,
}

/// A setting that cannot be used: what is wrong, naming the variable and the value (never a
/// secret's), and what to do, as two fields from where it is found. `Display` is the one line
/// commands print; `doctor` shows the two parts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct SettingsError {
    pub problem: Problem,
}

impl SettingsError {
    /// What is wrong and how to fix it.
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        SettingsError {
            problem: Problem::new(what, fix),
        }
    }

    /// An error whose description says it all (one quoting a parser's own message).
    pub fn plain(what: impl Into<String>) -> Self {
        SettingsError {
            problem: Problem::plain(what),
        }
    }
}

impl From<Problem> for SettingsError {
    fn from(problem: Problem) -> Self {
        SettingsError { problem }
    }
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// A snapshot of environment-like variables.
pub type Environment = HashMap<String, String>;

pub fn process_environment() -> Environment {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The platform data directory (`~/.local/share/mem0` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mem0").map(|d| d.data_dir().to_path_buf())
}

/// Flag values, keyed by the variable they stand for.
pub type Flags = BTreeMap<&'static str, String>;

/// Settings and where each value came from (for `config show`).
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    pub resolved: Resolved,
}

/// Gathers every source from this process (environment, `.env` files, config file, keychain)
/// and resolves them.
pub fn load(flags: &Flags, keychain: &Keychain) -> Result<Loaded, SettingsError> {
    let Inspected { resolved, settings } = inspect(flags, keychain)?;
    Ok(Loaded {
        settings: settings?,
        resolved,
    })
}

/// Every setting's value and source, and the typed settings or why they are invalid: what
/// `config show` needs to list the values even when one of them is wrong.
#[derive(Debug)]
pub struct Inspected {
    pub resolved: Resolved,
    pub settings: Result<Settings, SettingsError>,
}

/// Like [`load`], but a value that fails validation is reported next to the resolved values
/// instead of replacing them. Errors in the sources themselves (a conflict, an unreadable
/// file) still fail, as nothing can be listed then.
pub fn inspect(flags: &Flags, keychain: &Keychain) -> Result<Inspected, SettingsError> {
    let env = process_environment();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let resolved = resolve_from(
        flags,
        &env,
        &cwd,
        config_file::config_dir().as_deref(),
        keychain,
    )?;
    let settings = typed(&resolved, &cwd);
    Ok(Inspected { resolved, settings })
}

/// [`load`] with every input given, so tests can build any situation.
pub fn load_from(
    flags: &Flags,
    env: &Environment,
    cwd: &Path,
    config_dir: Option<&Path>,
    keychain: &Keychain,
) -> Result<Loaded, SettingsError> {
    let resolved = resolve_from(flags, env, cwd, config_dir, keychain)?;
    let settings = typed(&resolved, cwd)?;
    Ok(Loaded { settings, resolved })
}

/// Every source read and merged in the one precedence order, before typed validation.
///
/// The working directory's `.env` and `mem0.config.json` are read only when trusted and
/// unchanged (see [`trust`]); those in `config_dir`, and a config file named by `--config` /
/// `MEM0_CONFIG`, are the user's own and need no trust.
fn resolve_from(
    flags: &Flags,
    env: &Environment,
    cwd: &Path,
    config_dir: Option<&Path>,
    keychain: &Keychain,
) -> Result<Resolved, SettingsError> {
    let trusted = trust::TrustStore::load(config_dir);
    let mut ignored = Vec::new();
    let mut dotenv = dotenv::DotEnv::default();
    if let Some((file, local)) =
        project_file(&cwd.join(".env"), config_dir, &trusted, &mut ignored)?
    {
        dotenv.add(&file.path, &file.bytes, local)?;
    }
    if let Some(dir) = config_dir {
        let own = dir.join(".env");
        if own.is_file() {
            let bytes = std::fs::read(&own)
                .map_err(|e| SettingsError::plain(format!("cannot read {}: {e}", own.display())))?;
            dotenv.add(&own, &bytes, false)?;
        }
    }
    // A path from a `.env` file is relative to that file, like its secret files.
    let explicit_config = flags
        .get("MEM0_CONFIG")
        .or_else(|| env.get("MEM0_CONFIG"))
        .filter(|p| !p.trim().is_empty())
        .map(|p| cwd.join(p.trim()))
        .or_else(|| {
            let path = dotenv.values.get("MEM0_CONFIG")?.trim();
            let base = dotenv.dirs.get("MEM0_CONFIG").map_or(cwd, PathBuf::as_path);
            (!path.is_empty()).then(|| base.join(path))
        });
    let config = match explicit_config {
        Some(path) => config_file::load(&config_file::explicit(&path)?)?,
        None => match project_file(
            &cwd.join(config_file::FILE_NAME),
            config_dir,
            &trusted,
            &mut ignored,
        )? {
            Some((file, _)) => {
                config_file::parse(&String::from_utf8_lossy(&file.bytes), &file.path)?
            }
            None => match config_dir
                .map(|d| d.join(config_file::FILE_NAME))
                .filter(|p| p.is_file())
            {
                Some(path) => config_file::load(&path)?,
                None => config_file::ConfigFile::default(),
            },
        },
    };
    let mut resolved = sources::resolve(&sources::Inputs {
        flags,
        env,
        dotenv: &dotenv,
        config: &config,
        keychain,
        cwd,
    })?;
    resolved
        .warnings
        .extend(ignored.iter().map(trust::Ignored::problem));
    resolved.ignored = ignored;
    Ok(resolved)
}

/// A settings file in the working directory, read once when it may be used: it is trusted
/// with this content, or it lies in the config directory (the server started there). The bool
/// says whether it is project-local. An ignored file is added to `ignored`.
fn project_file(
    path: &Path,
    config_dir: Option<&Path>,
    trusted: &trust::TrustStore,
    ignored: &mut Vec<trust::Ignored>,
) -> Result<Option<(trust::Read, bool)>, SettingsError> {
    if !path.is_file() {
        return Ok(None);
    }
    // A file a repository planted must not be able to stop the server either.
    let Ok(file) = trust::Read::file(path) else {
        ignored.push(trust::Ignored {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            reason: trust::Distrust::Unreadable,
        });
        return Ok(None);
    };
    if config_dir.is_some_and(|dir| trust::is_inside(&file.path, dir)) {
        return Ok(Some((file, false)));
    }
    match trusted.check(&file) {
        None => Ok(Some((file, true))),
        Some(reason) => {
            ignored.push(trust::Ignored {
                path: file.path,
                reason,
            });
            Ok(None)
        }
    }
}

/// Validates the resolved values into [`Settings`].
fn typed(resolved: &Resolved, cwd: &Path) -> Result<Settings, SettingsError> {
    let data_dir = match resolved.get("MEM0_DATA_DIR") {
        Some(dir) => cwd.join(dir),
        None => default_data_dir().ok_or_else(|| {
            SettingsError::new(
                "cannot find a data directory for the embedded database (no home directory)",
                "set MEM0_DATA_DIR",
            )
        })?,
    };
    let database = database::target(resolved, &data_dir)?;
    let mode = resolved.get("PROJECT_ID_MODE").unwrap_or("auto");
    let project_mode = mode.parse::<ProjectMode>().map_err(|_| {
        SettingsError::new(
            format!(
                "PROJECT_ID_MODE '{}' is not a mode",
                mode.trim().to_ascii_lowercase()
            ),
            "use auto, manual or global",
        )
    })?;
    let project_id = resolved.get("PROJECT_ID").map(str::to_owned);
    if let Some(id) = &project_id {
        crate::project::validate_project_id(id)
            .map_err(|e| SettingsError::new(format!("PROJECT_ID: {}", e.what), e.fix))?;
    }
    if project_mode == ProjectMode::Manual && project_id.is_none() {
        return Err(SettingsError::new(
            "PROJECT_ID_MODE is manual but PROJECT_ID is not set",
            "set PROJECT_ID to the project's name, or use PROJECT_ID_MODE=auto",
        ));
    }
    let user_id = resolved.get("MEM0_USER_ID").map(str::to_owned);
    if let Some(user) = &user_id {
        validate_user_id(user)?;
    }
    let jwt_secret = resolved.secret(SecretName::JwtSecret);
    if let Some(secret) = &jwt_secret
        && secret.expose().len() < MIN_JWT_SECRET_BYTES
    {
        return Err(SettingsError::new(
            format!(
                "MEM0_JWT_SECRET (from {}) is {} bytes; it must be at least {MIN_JWT_SECRET_BYTES}",
                resolved
                    .source(SecretName::JwtSecret.env())
                    .map(Source::as_str)
                    .unwrap_or("?"),
                secret.expose().len()
            ),
            "generate one with `openssl rand -base64 48`",
        ));
    }
    let embeddings = embeddings::from_resolved(resolved, cwd, &data_dir)?;
    Ok(Settings {
        database,
        data_dir,
        embeddings,
        user_id,
        token: resolved.secret(SecretName::Token),
        jwt_secret,
        project_mode,
        project_id,
        project_dir: resolved.get("PROJECT_DIR").map(|d| cwd.join(d)),
        max_memories_per_context: number(
            resolved,
            "MEM0_MAX_MEMORIES_PER_CONTEXT",
            1..=10_000_000,
        )?,
        timeout: Duration::from_secs(number(resolved, "MEM0_TIMEOUT", 1..=3600)?),
        backup_enabled: boolean(resolved, "MEM0_BACKUP_ENABLED")?,
        log_filter: resolved.get("MEM0_LOG").unwrap_or("warn").to_owned(),
        http_host: resolved
            .get("MEM0_HTTP_HOST")
            .unwrap_or("127.0.0.1")
            .to_owned(),
        http_port: number(resolved, "MEM0_HTTP_PORT", 1..=65535)? as u16,
        http_allowed_origins: list(resolved, "MEM0_HTTP_ALLOWED_ORIGINS"),
        http_allowed_hosts: list(resolved, "MEM0_HTTP_ALLOWED_HOSTS"),
        http_trusted_proxies: trusted_proxies(resolved)?,
        http_tls: tls_files(resolved, cwd)?,
        http_pool_size: number(resolved, "MEM0_HTTP_POOL_SIZE", 1..=1000)? as u32,
        server_url: server_url(resolved)?,
        server_ca: non_empty(resolved, "MEM0_SERVER_CA").map(|p| cwd.join(p)),
    })
}

/// A value that is set and not blank (the example config lists optional keys as "").
fn non_empty<'a>(resolved: &'a Resolved, name: &str) -> Option<&'a str> {
    resolved.get(name).map(str::trim).filter(|v| !v.is_empty())
}

/// A comma-separated list, without empty items.
fn list(resolved: &Resolved, name: &str) -> Vec<String> {
    resolved
        .get(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn tls_files(resolved: &Resolved, cwd: &Path) -> Result<Option<(PathBuf, PathBuf)>, SettingsError> {
    match (
        non_empty(resolved, "MEM0_HTTP_TLS_CERT"),
        non_empty(resolved, "MEM0_HTTP_TLS_KEY"),
    ) {
        (Some(cert), Some(key)) => Ok(Some((cwd.join(cert), cwd.join(key)))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(SettingsError::new(
            "MEM0_HTTP_TLS_CERT is set but MEM0_HTTP_TLS_KEY is not",
            "set MEM0_HTTP_TLS_KEY to the PEM file of the certificate's private key",
        )),
        (None, Some(_)) => Err(SettingsError::new(
            "MEM0_HTTP_TLS_KEY is set but MEM0_HTTP_TLS_CERT is not",
            "set MEM0_HTTP_TLS_CERT to the PEM file of the certificate (chain)",
        )),
    }
}

fn trusted_proxies(resolved: &Resolved) -> Result<Vec<ipnet::IpNet>, SettingsError> {
    list(resolved, "MEM0_HTTP_TRUSTED_PROXIES")
        .iter()
        .map(|item| {
            trusted_proxy(item).ok_or_else(|| {
                SettingsError::new(
                    format!(
                        "{} has '{}', which is neither an IP address nor a network in CIDR form",
                        labelled(resolved, "MEM0_HTTP_TRUSTED_PROXIES"),
                        crate::identifier::echo(item)
                    ),
                    "list the reverse proxies' addresses, comma-separated, e.g. 127.0.0.1,10.0.0.0/8",
                )
            })
        })
        .collect()
}

/// One `MEM0_HTTP_TRUSTED_PROXIES` item: an address (`10.0.0.5`, `::1`) or a network in CIDR
/// form (`10.0.0.0/8`); `None` for anything else (host names are not resolved).
pub fn trusted_proxy(item: &str) -> Option<ipnet::IpNet> {
    item.parse::<ipnet::IpNet>().ok().or_else(|| {
        item.parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

fn server_url(resolved: &Resolved) -> Result<Option<String>, SettingsError> {
    let Some(url) = non_empty(resolved, "MEM0_SERVER_URL") else {
        return Ok(None);
    };
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://"))
        || url.contains(char::is_whitespace)
    {
        return Err(SettingsError::new(
            format!(
                "{} is '{url}', not an http:// or https:// URL",
                labelled(resolved, "MEM0_SERVER_URL")
            ),
            "set it to the team server's MCP endpoint, e.g. https://mem0.example.com/mcp/",
        ));
    }
    Ok(Some(url.to_owned()))
}

pub fn validate_user_id(user: &str) -> Result<(), SettingsError> {
    if let Some(c) = crate::identifier::first_hidden(user) {
        return Err(SettingsError::new(
            format!(
                "MEM0_USER_ID '{}' contains the invisible character {}, which would make lists and the audit log show another name",
                crate::identifier::echo(user),
                crate::identifier::code_point(c)
            ),
            "remove it (retype the id rather than pasting it)",
        ));
    }
    if user.chars().count() > 256 {
        return Err(SettingsError::plain(
            "MEM0_USER_ID must be at most 256 printable characters (for example your e-mail address)",
        ));
    }
    Ok(())
}

/// Where a value came from, for messages: "MEM0_TIMEOUT (from config)".
fn labelled(resolved: &Resolved, name: &str) -> String {
    let key = keys::by_env(name);
    match (resolved.source(name), key.and_then(|k| k.config)) {
        (Some(Source::Config), Some(config)) => format!("{config} in the config file"),
        (Some(source), _) => format!("{name} (from {})", source.as_str()),
        (None, _) => name.to_string(),
    }
}

fn number(
    resolved: &Resolved,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, SettingsError> {
    let raw = resolved.get(name).unwrap_or_default();
    raw.parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            SettingsError::new(
                format!("{} is '{raw}'", labelled(resolved, name)),
                format!(
                    "use a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

fn boolean(resolved: &Resolved, name: &str) -> Result<bool, SettingsError> {
    match resolved
        .get(name)
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(SettingsError::new(
            format!("{} is '{other}'", labelled(resolved, name)),
            "use true or false",
        )),
    }
}

#[cfg(test)]
mod tests;
