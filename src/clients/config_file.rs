//! A client's configuration file: reading its servers, and merging one server entry into it so
//! that every other key and every other server stays as it was. Writing goes through
//! [`crate::files`], which replaces the file atomically and keeps a backup of the old one.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Client, DEFAULT_SERVER_NAME, Dirs};
use crate::files::{self, Access, Written};

/// What merging did to the server entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added,
    /// The entry existed with other content; the old entry.
    Replaced(Value),
    Unchanged,
}

/// The file's text after the merge.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub text: String,
    pub change: Change,
}

/// The result of writing an entry into a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub change: Change,
    pub written: Written,
}

impl Outcome {
    /// One line saying what happened to server `name` in the file at `path`.
    pub fn describe(&self, name: &str, path: &Path) -> String {
        let what = match &self.change {
            Change::Added => format!("added server \"{name}\" to"),
            Change::Replaced(_) => format!("updated server \"{name}\" in"),
            Change::Unchanged => format!("server \"{name}\" is already up to date in"),
        };
        match &self.written {
            Written::Replaced { backup } => format!(
                "{what} {} (previous version kept as {})",
                path.display(),
                backup.display()
            ),
            Written::Created => format!("{what} {} (new file)", path.display()),
            Written::Unchanged => format!("{what} {}", path.display()),
        }
    }
}

fn unreadable(path: &Path, why: &str) -> String {
    format!(
        "{} {why}, so mem0-mcp will not rewrite it: add the entry by hand (`mem0-mcp client-config` prints it)",
        path.display()
    )
}

fn parse_object(text: &str, path: &Path) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(unreadable(path, "does not hold a JSON object")),
        Err(e) => Err(unreadable(
            path,
            &format!("is not plain JSON ({e}; comments and trailing commas are not supported)"),
        )),
    }
}

/// Puts `entry` under `<servers key>.<name>`, keeping everything else.
pub fn merge(
    existing: Option<&str>,
    client: Client,
    name: &str,
    entry: &Value,
    path: &Path,
) -> Result<Merged, String> {
    let mut root = parse_object(existing.unwrap_or_default(), path)?;
    let key = client.servers_key();
    let servers = root
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else {
        return Err(unreadable(
            path,
            &format!("has a \"{key}\" that is not an object"),
        ));
    };
    let change = match servers.get(name) {
        None => Change::Added,
        Some(old) if old == entry => Change::Unchanged,
        Some(old) => Change::Replaced(old.clone()),
    };
    servers.insert(name.to_owned(), entry.clone());
    let text = match (&change, existing) {
        (Change::Unchanged, Some(text)) => text.to_owned(),
        _ => format!(
            "{}\n",
            serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default()
        ),
    };
    Ok(Merged { text, change })
}

/// Merges the entry into the file at `path` (created if missing). `access` is
/// [`Access::Private`] when the entry carries a secret in clear.
pub fn write_entry(
    path: &Path,
    client: Client,
    name: &str,
    entry: &Value,
    access: Access,
) -> Result<Outcome, String> {
    let existing = read(path)?;
    let merged = merge(existing.as_deref(), client, name, entry, path)?;
    if merged.change == Change::Unchanged {
        return Ok(Outcome {
            change: Change::Unchanged,
            written: Written::Unchanged,
        });
    }
    let written = files::write(path, merged.text.as_bytes(), access)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Outcome {
        change: merged.change,
        written,
    })
}

/// Adds `input` to the file's top-level `inputs` (VS Code's prompts) unless one with its id is
/// there; the file must exist (written by [`write_entry`] first). Keeps the file's access.
pub fn ensure_input(path: &Path, input: &Value) -> Result<(), String> {
    let text = read(path)?.unwrap_or_else(|| "{}".into());
    let mut root = parse_object(&text, path)?;
    let inputs = root
        .entry("inputs")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(inputs) = inputs else {
        return Err(unreadable(path, "its \"inputs\" is not a list"));
    };
    if inputs.iter().any(|i| i.get("id") == input.get("id")) {
        return Ok(());
    }
    inputs.push(input.clone());
    let text = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default() + "\n";
    files::write(path, text.as_bytes(), Access::Keep)
        .map(drop)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The servers a client's file configures; `None` when the file does not exist.
pub fn servers(path: &Path, client: Client) -> Result<Option<Map<String, Value>>, String> {
    let Some(text) = read(path)? else {
        return Ok(None);
    };
    let root = parse_object(&text, path)?;
    match root.get(client.servers_key()) {
        None => Ok(Some(Map::new())),
        Some(Value::Object(servers)) => Ok(Some(servers.clone())),
        Some(_) => Err(unreadable(
            path,
            &format!("has a \"{}\" that is not an object", client.servers_key()),
        )),
    }
}

/// The entries that launch mem0-mcp: the one named `name`, and any whose command is a
/// `mem0-mcp` binary.
pub fn mem0_entries(servers: &Map<String, Value>, name: &str) -> Vec<(String, Value)> {
    servers
        .iter()
        .filter(|(key, entry)| {
            *key == name
                || entry
                    .get("command")
                    .and_then(Value::as_str)
                    .and_then(|c| Path::new(c).file_stem().map(|s| s.to_owned()))
                    .is_some_and(|stem| stem == "mem0-mcp")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One client's configuration file and the mem0 entries in it.
#[derive(Debug)]
pub struct ClientFile {
    pub client: Client,
    pub path: PathBuf,
    /// The mem0 entries (name and entry); `Err` saying why when the file cannot be read as
    /// JSON.
    pub entries: Result<Vec<(String, Value)>, String>,
}

/// The configuration file of every client that has one, with its mem0 entries (see
/// [`mem0_entries`]; `DEFAULT_SERVER_NAME` names the entry).
pub fn read_all(dirs: &Dirs) -> Vec<ClientFile> {
    Client::ALL
        .into_iter()
        .filter_map(|client| {
            let path = client.config_path(dirs);
            let entries = match servers(&path, client) {
                Ok(None) => return None,
                Ok(Some(servers)) => Ok(mem0_entries(&servers, DEFAULT_SERVER_NAME)),
                Err(e) => Err(e),
            };
            Some(ClientFile {
                client,
                path,
                entries,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PATH: &str = "/home/al/.config/Claude/claude_desktop_config.json";

    #[test]
    fn merging_keeps_every_other_key_in_its_order() {
        let existing = r#"{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "github": { "command": "npx", "args": ["-y", "gh"], "env": { "GITHUB_TOKEN": "x" } },
    "mem0": { "command": "/old/mem0-mcp" }
  },
  "zzz": [1, 2]
}"#;
        let entry = json!({"command": "/new/mem0-mcp", "env": {"MEM0_USER_ID": "al"}});
        let merged = merge(
            Some(existing),
            Client::ClaudeDesktop,
            "mem0",
            &entry,
            Path::new(PATH),
        )
        .unwrap();
        assert_eq!(
            merged.change,
            Change::Replaced(json!({"command": "/old/mem0-mcp"}))
        );
        let value: Value = serde_json::from_str(&merged.text).unwrap();
        assert_eq!(value["globalShortcut"], "Ctrl+Space");
        assert_eq!(value["mcpServers"]["github"]["env"]["GITHUB_TOKEN"], "x");
        assert_eq!(value["mcpServers"]["mem0"], entry);
        assert_eq!(value["zzz"], json!([1, 2]));
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["globalShortcut", "mcpServers", "zzz"]);

        let again = merge(
            Some(&merged.text),
            Client::ClaudeDesktop,
            "mem0",
            &entry,
            Path::new(PATH),
        )
        .unwrap();
        assert_eq!(again.change, Change::Unchanged);
        assert_eq!(again.text, merged.text);
    }

    #[test]
    fn new_and_empty_files_get_the_servers_key() {
        for existing in [None, Some(""), Some("{}")] {
            let merged = merge(
                existing,
                Client::VsCode,
                "mem0",
                &json!({"type": "stdio"}),
                Path::new("mcp.json"),
            )
            .unwrap();
            assert_eq!(merged.change, Change::Added);
            let value: Value = serde_json::from_str(&merged.text).unwrap();
            assert_eq!(value, json!({"servers": {"mem0": {"type": "stdio"}}}));
        }
    }

    #[test]
    fn files_it_cannot_read_safely_are_refused() {
        for (text, needle) in [
            ("{ // a comment\n}", "not plain JSON"),
            ("[1]", "does not hold a JSON object"),
            (
                r#"{"mcpServers": []}"#,
                "\"mcpServers\" that is not an object",
            ),
        ] {
            let err = merge(
                Some(text),
                Client::Cursor,
                "mem0",
                &json!({}),
                Path::new("/x/mcp.json"),
            )
            .unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
            assert!(err.contains("/x/mcp.json"), "{err}");
        }
    }

    #[test]
    fn write_keeps_a_backup_and_skips_identical_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        std::fs::write(&path, r#"{"mcpServers": {"other": {"command": "x"}}}"#).unwrap();
        let entry = json!({"command": "/bin/mem0-mcp"});
        let first = write_entry(&path, Client::Cursor, "mem0", &entry, Access::Keep).unwrap();
        assert_eq!(first.change, Change::Added);
        let Written::Replaced { backup } = first.written else {
            panic!("expected a backup: {first:?}");
        };
        assert!(std::fs::read_to_string(backup).unwrap().contains("other"));
        let second = write_entry(&path, Client::Cursor, "mem0", &entry, Access::Keep).unwrap();
        assert_eq!(second.change, Change::Unchanged);
        let servers = servers(&path, Client::Cursor).unwrap().unwrap();
        assert_eq!(servers.len(), 2);
        let found = mem0_entries(&servers, "mem0");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "mem0");
    }
}
