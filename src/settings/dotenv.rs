//! `.env` files: read from the current directory and the config directory (the first one wins
//! for a name both define) into a map. They never change the process environment, so a real
//! environment variable always beats them.

use std::path::PathBuf;

use super::{Environment, SettingsError};

pub fn read_files(paths: &[PathBuf]) -> Result<Environment, SettingsError> {
    let mut values = Environment::new();
    for path in paths.iter().filter(|p| p.is_file()) {
        let entries = dotenvy::from_path_iter(path).map_err(|e| {
            SettingsError::plain(format!("cannot read {}: {}", path.display(), describe(&e)))
        })?;
        for entry in entries {
            let (name, value) = entry.map_err(|e| {
                SettingsError::plain(format!(
                    "{} is not a valid .env file: {}",
                    path.display(),
                    describe(&e)
                ))
            })?;
            values.entry(name).or_insert(value);
        }
    }
    Ok(values)
}

/// dotenvy's line-parse errors quote the line, which may hold a secret: keep only where.
fn describe(error: &dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(_, index) => {
            format!("a line could not be parsed (near character {index})")
        }
        dotenvy::Error::Io(e) => e.to_string(),
        _ => "it could not be parsed".into(),
    }
}
