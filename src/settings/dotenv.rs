//! `.env` files: the config directory's, and the current directory's once trusted (see
//! [`super::trust`]), parsed into a map (the first file wins for a name both define) that also
//! remembers which directory each value came from, so a relative `NAME_FILE` path is read
//! relative to the file that names it. They never change the process environment, so a real
//! environment variable always beats them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{Environment, SettingsError};

/// The values of the `.env` files in effect, and where each came from.
#[derive(Debug, Default, Clone)]
pub struct DotEnv {
    /// Every name defined, with the value of the first file that defines it.
    pub values: Environment,
    /// The directory of the file each value came from, keyed by name.
    pub dirs: HashMap<String, PathBuf>,
    /// The names whose file lies in a project directory (not the config directory).
    pub project_local: std::collections::HashSet<String>,
}

impl DotEnv {
    /// Adds the values of one file's `bytes` (read from `path`), keeping values already set.
    ///
    /// # Errors
    ///
    /// A file that does not parse, saying where (never quoting a line, which may be a secret).
    pub fn add(
        &mut self,
        path: &Path,
        bytes: &[u8],
        project_local: bool,
    ) -> Result<(), SettingsError> {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for entry in dotenvy::from_read_iter(bytes) {
            let (name, value) = entry.map_err(|e| {
                SettingsError::plain(format!(
                    "{} is not a valid .env file: {}",
                    path.display(),
                    describe(&e)
                ))
            })?;
            if self.values.contains_key(&name) {
                continue;
            }
            self.dirs.insert(name.clone(), dir.clone());
            if project_local {
                self.project_local.insert(name.clone());
            }
            self.values.insert(name, value);
        }
        Ok(())
    }
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
