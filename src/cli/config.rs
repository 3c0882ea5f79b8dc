//! `mem0-mcp config show [--json]` lists every setting with its effective value and the source
//! it came from (secrets as `***`); `mem0-mcp config example` prints the annotated example
//! config, the same text as `config.example.json`.

use std::io::Write;

use clap::Subcommand;

use super::{ExitCode, Failure};
use crate::settings::Inspected;
use crate::settings::keys::{KEYS, Kind};
use crate::settings::sources::Raw;

/// The annotated example, compiled in.
pub const EXAMPLE: &str = include_str!("../../config.example.json");

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every effective setting and where it came from (flag, env, file, keychain, config, dotenv, default)
    Show {
        /// One JSON object keyed by variable name: {"value": …, "source": …}
        #[arg(long)]
        json: bool,
    },
    /// Print the annotated example mem0.config.json
    Example,
}

pub fn example() -> Result<(), Failure> {
    write_out(EXAMPLE)
}

/// Lists the settings, also when one is invalid: then the listing is printed first and the
/// command fails with the validation error (exit 2), so the value at fault and its source are
/// on screen next to the reason.
pub fn run(command: &ConfigCommand, inspected: &Inspected) -> Result<(), Failure> {
    match command {
        ConfigCommand::Example => example(),
        ConfigCommand::Show { json } => {
            if *json {
                write_out(&format!("{:#}\n", show_json(inspected)))?;
            } else {
                write_out(&show_table(inspected))?;
            }
            match &inspected.settings {
                Ok(_) => Ok(()),
                Err(error) => Err(Failure::new(
                    ExitCode::Usage,
                    format!("the settings above cannot be used: {error}"),
                )),
            }
        }
    }
}

fn write_out(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::new(ExitCode::Other, format!("cannot write to stdout: {e}")))
}

/// A value as shown: secrets as `***`, numbers and booleans typed.
fn shown_value(kind: Kind, raw: Option<&Raw>) -> serde_json::Value {
    let Some(raw) = raw else {
        return serde_json::Value::Null;
    };
    match kind {
        Kind::Secret(_) => "***".into(),
        Kind::Number => raw
            .text()
            .parse::<u64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| raw.text().into()),
        Kind::Bool => match raw.text() {
            "true" => true.into(),
            "false" => false.into(),
            other => other.into(),
        },
        Kind::Text => raw.text().into(),
    }
}

pub fn show_json(inspected: &Inspected) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for key in KEYS {
        let entry = inspected.resolved.values.get(key.env);
        let source = entry.map(|(_, s)| s.as_str()).unwrap_or("default");
        object.insert(
            key.env.to_string(),
            serde_json::json!({ "value": shown_value(key.kind, entry.map(|(r, _)| r)), "source": source }),
        );
    }
    serde_json::Value::Object(object)
}

fn show_table(inspected: &Inspected) -> String {
    let rows: Vec<(String, String, String)> = KEYS
        .iter()
        .map(|key| {
            let entry = inspected.resolved.values.get(key.env);
            let value = match shown_value(key.kind, entry.map(|(r, _)| r)) {
                serde_json::Value::Null => "(unset)".to_string(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let source = entry.map(|(_, s)| s.as_str()).unwrap_or("default");
            (key.env.to_string(), value, source.to_string())
        })
        .collect();
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(7);
    let value_width = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, 48);
    let mut out = format!(
        "{:name_width$}  {:value_width$}  SOURCE\n",
        "SETTING", "VALUE"
    );
    for (name, value, source) in rows {
        out.push_str(&format!(
            "{name:name_width$}  {value:value_width$}  {source}\n"
        ));
    }
    if let Ok(settings) = &inspected.settings {
        out.push_str(&format!(
            "\nDatabase: {}\nData directory: {}",
            settings.database.describe(),
            settings.data_dir.display(),
        ));
    }
    out.push_str(&format!(
        "\nConfig file: {}\n",
        inspected
            .resolved
            .config_path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none found".into())
    ));
    for ignored in &inspected.resolved.ignored {
        out.push_str(&format!("{}\n", ignored.problem().sentence()));
    }
    out
}
