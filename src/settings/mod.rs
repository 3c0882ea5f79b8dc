//! Settings: every value the server needs, resolved once at startup into a typed [`Settings`]
//! and passed down as a value (nothing reads the environment later).
//!
//! Variables read here: `MEM0_DATABASE_URL`, `MEM0_DATA_DIR`, `MEM0_USER_ID`, `MEM0_TOKEN`,
//! `MEM0_JWT_SECRET`, `PROJECT_ID_MODE`, `PROJECT_ID`, `PROJECT_DIR`, `MEM0_MAX_MEMORIES_PER_CONTEXT`,
//! `MEM0_TIMEOUT`, `MEM0_BACKUP_ENABLED`, `MEM0_LOG`.

mod secret;

pub use secret::Secret;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::memory::ProjectMode;

/// Where memories are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A `postgresql://` URL (may hold a password, hence secret).
    Postgres(Secret),
    /// The embedded database file.
    Sqlite(PathBuf),
}

impl DatabaseTarget {
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Postgres(_) => "PostgreSQL (MEM0_DATABASE_URL)".into(),
            DatabaseTarget::Sqlite(path) => format!("embedded SQLite at {}", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseTarget,
    pub data_dir: PathBuf,
    pub user_id: Option<String>,
    pub token: Option<Secret>,
    /// The HS256 key of minted tokens (`token mint`, and `serve` given a minted token).
    pub jwt_secret: Option<Secret>,
    pub project_mode: ProjectMode,
    pub project_id: Option<String>,
    pub project_dir: Option<PathBuf>,
    pub max_memories_per_context: u64,
    pub timeout: Duration,
    pub backup_enabled: bool,
}

/// A setting that cannot be used; the message names the variable, the value (never a secret's)
/// and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// The name of the embedded database file inside the data directory.
pub const SQLITE_FILE: &str = "mem0.db";
pub const DEFAULT_MAX_MEMORIES_PER_CONTEXT: u64 = 1000;
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// Snapshot of the environment, so resolution is a pure function of its inputs.
pub type Environment = HashMap<String, String>;

pub fn process_environment() -> Environment {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

fn get<'a>(env: &'a Environment, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The platform data directory (`~/.local/share/mem0` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mem0").map(|d| d.data_dir().to_path_buf())
}

pub fn resolve(env: &Environment) -> Result<Settings, SettingsError> {
    let data_dir = match get(env, "MEM0_DATA_DIR") {
        Some(dir) => absolute(Path::new(dir)),
        None => default_data_dir().ok_or_else(|| {
            SettingsError(
                "cannot find a data directory for the embedded database (no home directory): set MEM0_DATA_DIR".into(),
            )
        })?,
    };
    let database = match get(env, "MEM0_DATABASE_URL") {
        Some(url) => parse_database_url(url)?,
        None => DatabaseTarget::Sqlite(data_dir.join(SQLITE_FILE)),
    };
    let project_mode = match get(env, "PROJECT_ID_MODE") {
        Some(mode) => mode.parse().map_err(SettingsError)?,
        None => ProjectMode::Auto,
    };
    let project_id = get(env, "PROJECT_ID").map(str::to_owned);
    if let Some(id) = &project_id {
        crate::project::validate_project_id(id)
            .map_err(|e| SettingsError(format!("PROJECT_ID: {e}")))?;
    }
    if project_mode == ProjectMode::Manual && project_id.is_none() {
        return Err(SettingsError(
            "PROJECT_ID_MODE is manual but PROJECT_ID is not set: set PROJECT_ID to the project's name, or use PROJECT_ID_MODE=auto".into(),
        ));
    }
    let user_id = get(env, "MEM0_USER_ID").map(str::to_owned);
    if let Some(user) = &user_id {
        validate_user_id(user)?;
    }
    Ok(Settings {
        database,
        data_dir,
        user_id,
        token: get(env, "MEM0_TOKEN").map(Secret::new),
        jwt_secret: get(env, "MEM0_JWT_SECRET").map(Secret::new),
        project_mode,
        project_id,
        project_dir: get(env, "PROJECT_DIR").map(|d| absolute(Path::new(d))),
        max_memories_per_context: parse_number(
            env,
            "MEM0_MAX_MEMORIES_PER_CONTEXT",
            DEFAULT_MAX_MEMORIES_PER_CONTEXT,
            1..=10_000_000,
        )?,
        timeout: Duration::from_secs(parse_number(
            env,
            "MEM0_TIMEOUT",
            DEFAULT_TIMEOUT_SECS,
            1..=3600,
        )?),
        backup_enabled: parse_bool(env, "MEM0_BACKUP_ENABLED", true)?,
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `postgresql://…` / `postgres://…` or `sqlite://path`.
pub fn parse_database_url(url: &str) -> Result<DatabaseTarget, SettingsError> {
    if url.starts_with("postgresql://") || url.starts_with("postgres://") {
        return Ok(DatabaseTarget::Postgres(Secret::new(url)));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(SettingsError(
                "MEM0_DATABASE_URL is sqlite:// without a file path: use sqlite:///absolute/path/mem0.db".into(),
            ));
        }
        return Ok(DatabaseTarget::Sqlite(absolute(Path::new(path))));
    }
    let scheme = url
        .split("://")
        .next()
        .filter(|s| s.len() < url.len())
        .unwrap_or("(none)");
    Err(SettingsError(format!(
        "MEM0_DATABASE_URL has the scheme '{scheme}', which is not supported: use postgresql://user@host:5432/database or sqlite:///path/to/mem0.db"
    )))
}

pub fn validate_user_id(user: &str) -> Result<(), SettingsError> {
    if user.chars().count() > 256 || user.chars().any(char::is_control) {
        return Err(SettingsError(
            "MEM0_USER_ID must be at most 256 printable characters (for example your e-mail address)".into(),
        ));
    }
    Ok(())
}

fn parse_number(
    env: &Environment,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, SettingsError> {
    match get(env, name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                SettingsError(format!(
                    "{name} is '{raw}': use a whole number from {} to {}",
                    range.start(),
                    range.end()
                ))
            }),
    }
}

fn parse_bool(env: &Environment, name: &str, default: bool) -> Result<bool, SettingsError> {
    match get(env, name).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(SettingsError(format!(
            "{name} is '{other}': use true or false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_use_the_embedded_database_in_the_data_dir() {
        let settings = resolve(&env(&[("MEM0_DATA_DIR", "/tmp/m0")])).unwrap();
        assert_eq!(
            settings.database,
            DatabaseTarget::Sqlite(PathBuf::from("/tmp/m0/mem0.db"))
        );
        assert_eq!(settings.project_mode, ProjectMode::Auto);
        assert_eq!(settings.max_memories_per_context, 1000);
        assert_eq!(settings.timeout, Duration::from_secs(10));
        assert!(settings.backup_enabled);
    }

    #[test]
    fn each_bad_value_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("MEM0_DATABASE_URL", "mysql://x")], "'mysql'"),
            (&[("MEM0_DATABASE_URL", "sqlite://")], "without a file path"),
            (&[("PROJECT_ID_MODE", "team")], "'team'"),
            (&[("PROJECT_ID_MODE", "manual")], "PROJECT_ID is not set"),
            (
                &[("MEM0_MAX_MEMORIES_PER_CONTEXT", "0")],
                "MEM0_MAX_MEMORIES_PER_CONTEXT",
            ),
            (&[("MEM0_TIMEOUT", "soon")], "MEM0_TIMEOUT is 'soon'"),
            (&[("MEM0_BACKUP_ENABLED", "maybe")], "MEM0_BACKUP_ENABLED"),
            (&[("MEM0_USER_ID", "a\nb")], "MEM0_USER_ID"),
        ];
        for (pairs, want) in cases {
            let mut all = env(pairs);
            all.insert("MEM0_DATA_DIR".into(), "/tmp/m0".into());
            let err = resolve(&all).unwrap_err().0;
            assert!(err.contains(want), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn database_urls() {
        assert!(matches!(
            parse_database_url("postgresql:///mem0?host=/var/run/postgresql"),
            Ok(DatabaseTarget::Postgres(_))
        ));
        assert_eq!(
            parse_database_url("sqlite:///data/m.db").unwrap(),
            DatabaseTarget::Sqlite(PathBuf::from("/data/m.db"))
        );
        let err = parse_database_url("postgresql-ish").unwrap_err().0;
        assert!(err.contains("(none)"), "{err}");
    }
}
