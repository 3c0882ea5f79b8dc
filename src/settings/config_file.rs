//! `mem0.config.json`: where it is looked for, its strict reading, and the one edit mem0-mcp
//! makes to it ([`write_storage`], for `init`). Every key maps to one setting of the registry;
//! an unknown key or a value of the wrong type is an error naming the key and the file. Keys
//! starting with `_comment` are ignored, so the file can be annotated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::keys::{self, Kind};
use super::{PgUrl, SettingsError};
use crate::files::{self, Access, Written};

pub const FILE_NAME: &str = "mem0.config.json";

/// The values of one config file, keyed by the setting's variable name.
#[derive(Debug, Default, Clone)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub values: BTreeMap<&'static str, String>,
}

/// The platform config directory (`~/.config/mem0` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mem0").map(|d| d.config_dir().to_path_buf())
}

/// The config file named by `--config` or `MEM0_CONFIG`, which must exist. (Without one, the
/// working directory's file is read once trusted, else the config directory's: see
/// [`super::trust`].)
pub fn explicit(path: &Path) -> Result<PathBuf, SettingsError> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    Err(SettingsError::new(
        format!(
            "the config file {} (from --config or MEM0_CONFIG) does not exist",
            path.display()
        ),
        "fix the path, or unset it to use the config directory's file",
    ))
}

pub fn load(path: &Path) -> Result<ConfigFile, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SettingsError::plain(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, SettingsError> {
    let shown = path.display();
    let root: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        SettingsError::plain(format!("the config file {shown} is not valid JSON: {e}"))
    })?;
    let serde_json::Value::Object(sections) = root else {
        return Err(SettingsError::plain(format!(
            "the config file {shown} must hold a JSON object such as {{\"server\": {{\"timeout\": 10}}}}"
        )));
    };
    let mut values = BTreeMap::new();
    for (section, body) in &sections {
        if is_comment(section) {
            continue;
        }
        let known_section = keys::KEYS
            .iter()
            .filter_map(|k| k.config)
            .any(|c| c.split_once('.').is_some_and(|(s, _)| s == section));
        let (true, serde_json::Value::Object(entries)) = (known_section, body) else {
            return Err(unknown_or_misplaced(section, &shown.to_string()));
        };
        for (name, value) in entries {
            if is_comment(name) {
                continue;
            }
            let dotted = format!("{section}.{name}");
            let key = keys::by_config(&dotted)
                .ok_or_else(|| unknown_or_misplaced(&dotted, &shown.to_string()))?;
            values.insert(
                key.env,
                value_text(key.kind, value, &dotted, &shown.to_string())?,
            );
        }
    }
    Ok(ConfigFile {
        path: Some(path.to_path_buf()),
        values,
    })
}

fn is_comment(name: &str) -> bool {
    name.starts_with("_comment")
}

fn unknown_or_misplaced(key: &str, file: &str) -> SettingsError {
    let known: Vec<&str> = keys::KEYS.iter().filter_map(|k| k.config).collect();
    SettingsError::new(
        format!(
            "unknown key '{}' in the config file {file}",
            crate::identifier::echo(key)
        ),
        format!("the known keys are {}", known.join(", ")),
    )
}

fn value_text(
    kind: Kind,
    value: &serde_json::Value,
    key: &str,
    file: &str,
) -> Result<String, SettingsError> {
    // A secret's value is never quoted (a URL with a password in a list is still a secret),
    // and other values only in part.
    let wrong = |want: &str| {
        let shown = match kind {
            Kind::Secret(_) => String::new(),
            _ => {
                let text = value.to_string();
                let cut: String = text.chars().take(64).collect();
                if cut.len() < text.len() {
                    format!(", not {cut}…")
                } else {
                    format!(", not {cut}")
                }
            }
        };
        SettingsError::plain(format!(
            "'{key}' in the config file {file} must be {want}{shown}"
        ))
    };
    match (kind, value) {
        (Kind::Number, serde_json::Value::Number(n)) if n.is_u64() => Ok(n.to_string()),
        (Kind::Number, _) => Err(wrong("a whole number")),
        (Kind::Bool, serde_json::Value::Bool(b)) => Ok(b.to_string()),
        (Kind::Bool, _) => Err(wrong("true or false")),
        (Kind::Text | Kind::Secret(_), serde_json::Value::String(s)) => Ok(s.clone()),
        (Kind::Text | Kind::Secret(_), _) => Err(wrong("a string")),
    }
}

/// The database a config file records (`storage.type`, `storage.database_url`).
#[derive(Debug, Clone, Copy)]
pub enum Storage<'a> {
    /// PostgreSQL at this URL, which is written without its password.
    Postgres(&'a PgUrl),
    Sqlite,
}

/// Why [`write_storage`] left the file as it was.
#[derive(Debug)]
pub enum EditError {
    Unreadable(std::io::Error),
    /// The file holds something other than a JSON object.
    NotAnObject,
    /// Its `storage` is not an object.
    StorageNotAnObject,
    /// The edited file would not read back as a config file.
    Invalid(SettingsError),
    Unwritable(std::io::Error),
}

/// Records `storage` in the config file at `path` (created if missing), keeping every other
/// key; the result is read back with [`parse`] before it replaces the file (atomically, the old
/// one kept as a backup).
///
/// # Errors
///
/// An [`EditError`] saying why the file was left as it was.
pub fn write_storage(path: &Path, storage: Storage<'_>) -> Result<Written, EditError> {
    let mut root = match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(EditError::NotAnObject),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(EditError::Unreadable(e)),
    };
    let section = root
        .entry("storage")
        .or_insert_with(|| serde_json::json!({}));
    let Some(section) = section.as_object_mut() else {
        return Err(EditError::StorageNotAnObject);
    };
    match storage {
        Storage::Postgres(url) => {
            section.insert("type".into(), "database".into());
            section.insert("database_url".into(), url.without_password().into());
        }
        Storage::Sqlite => {
            section.insert("type".into(), "sqlite".into());
            section.remove("database_url");
        }
    }
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&serde_json::Value::Object(root)).unwrap_or_default()
    );
    parse(&text, path).map_err(EditError::Invalid)?;
    files::write(path, text.as_bytes(), Access::Keep).map_err(EditError::Unwritable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<ConfigFile, String> {
        parse(text, Path::new("/etc/mem0.config.json")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_contract_example_parses() {
        let config = parse_str(
            r#"{
              "server":   { "host": "127.0.0.1", "port": 13370, "timeout": 10 },
              "storage":  { "type": "database", "auth_method": "environment",
                            "backup_enabled": true, "max_memories_per_context": 1000 },
              "security": { "jwt_secret_source": "environment", "database_auth_method": "peer" },
              "_comment": "ignored"
            }"#,
        )
        .unwrap();
        assert_eq!(config.values["MEM0_TIMEOUT"], "10");
        assert_eq!(config.values["MEM0_HTTP_PORT"], "13370");
        assert_eq!(config.values["MEM0_BACKUP_ENABLED"], "true");
        assert_eq!(config.values["MEM0_DATABASE_AUTH_METHOD"], "peer");
        assert_eq!(config.values.len(), 9);
    }

    #[test]
    fn mistakes_name_the_key_and_the_file() {
        let cases = [
            (
                r#"{"server": {"timeuot": 5}}"#,
                "unknown key 'server.timeuot'",
            ),
            (r#"{"servers": {}}"#, "unknown key 'servers'"),
            (r#"{"storage": 3}"#, "unknown key 'storage'"),
            (
                r#"{"server": {"timeout": "5"}}"#,
                "'server.timeout' in the config file /etc/mem0.config.json must be a whole number",
            ),
            (r#"{"server": {"timeout": -1}}"#, "whole number"),
            (r#"{"storage": {"backup_enabled": "yes"}}"#, "true or false"),
            (r#"{"storage": {"type": 1}}"#, "a string"),
            ("[1]", "must hold a JSON object"),
            ("{", "not valid JSON"),
        ];
        for (text, want) in cases {
            let err = parse_str(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.contains("/etc/mem0.config.json"), "{text}: {err}");
        }
    }
}

#[cfg(test)]
mod example_tests {
    #[test]
    fn the_shipped_example_is_a_valid_config() {
        let example = include_str!("../../config.example.json");
        let config = super::parse(example, std::path::Path::new("config.example.json")).unwrap();
        for key in crate::settings::keys::KEYS
            .iter()
            .filter(|k| k.config.is_some())
        {
            assert!(
                config.values.contains_key(key.env),
                "the example documents {}",
                key.env
            );
        }
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[test]
    fn storage_is_recorded_without_the_password_and_other_keys_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, r#"{"server": {"timeout": 5}}"#).unwrap();
        let url = PgUrl::parse("postgresql://me:pw@db/mem0").unwrap();
        write_storage(&path, Storage::Postgres(&url)).unwrap();
        let config = load(&path).unwrap();
        assert_eq!(config.values["MEM0_TIMEOUT"], "5");
        assert_eq!(config.values["MEM0_STORAGE_TYPE"], "database");
        assert_eq!(
            config.values["MEM0_DATABASE_URL"],
            "postgresql://me@db/mem0"
        );
        write_storage(&path, Storage::Sqlite).unwrap();
        let config = load(&path).unwrap();
        assert_eq!(config.values["MEM0_STORAGE_TYPE"], "sqlite");
        assert!(!config.values.contains_key("MEM0_DATABASE_URL"));
        std::fs::write(&path, "[1]").unwrap();
        assert!(matches!(
            write_storage(&path, Storage::Sqlite),
            Err(EditError::NotAnObject)
        ));
    }
}
