//! The one precedence, applied in one place. For every registered setting, the first source
//! that has it wins:
//!
//! command-line flag (never for secrets) > environment > `NAME_FILE` (secrets) > OS keychain
//! (secrets) > config file > `.env` > default.
//!
//! `storage.auth_method` / `MEM0_DB_SECRET_SOURCE` and `security.jwt_secret_source` /
//! `MEM0_JWT_SECRET_SOURCE` narrow where the database secret and the JWT secret may come from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::config_file::ConfigFile;
use super::dotenv::DotEnv;
use super::keychain::{Keychain, Lookup};
use super::keys::{KEYS, Key, Kind, SecretName};
use super::placeholder::{self, Placeholder};
use super::secret_file::{self, SecretFileError};
use super::trust::Ignored;
use super::{Environment, Secret, SettingsError};
use crate::problem::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Flag,
    Env,
    File,
    Keychain,
    Config,
    Dotenv,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::File => "file",
            Source::Keychain => "keychain",
            Source::Config => "config",
            Source::Dotenv => "dotenv",
            Source::Default => "default",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raw {
    Plain(String),
    Secret(Secret),
}

impl Raw {
    pub fn text(&self) -> &str {
        match self {
            Raw::Plain(text) => text,
            Raw::Secret(secret) => secret.expose(),
        }
    }
}

/// Every setting that has a value, with where it came from.
#[derive(Debug, Default)]
pub struct Resolved {
    pub values: BTreeMap<&'static str, (Raw, Source)>,
    pub config_path: Option<PathBuf>,
    /// The file each secret read from `NAME_FILE` came from (absolute), keyed by `NAME`.
    pub secret_files: BTreeMap<&'static str, PathBuf>,
    /// Things worth a warning once logging is up (e.g. a secret file readable by others, a
    /// placeholder passed through unexpanded).
    pub warnings: Vec<Problem>,
    /// Settings whose value was an unexpanded placeholder, by variable name, with that value
    /// (a stand-in for a secret); they are left out of `values`, as if unset.
    pub unexpanded: BTreeMap<&'static str, String>,
    /// Project-local settings files that were not used, and why (see [`super::trust`]).
    pub ignored: Vec<Ignored>,
}

impl Resolved {
    pub fn get(&self, env: &str) -> Option<&str> {
        self.values.get(env).map(|(raw, _)| raw.text())
    }

    pub fn secret(&self, name: SecretName) -> Option<Secret> {
        self.values.get(name.env()).map(|(raw, _)| match raw {
            Raw::Secret(s) => s.clone(),
            Raw::Plain(p) => Secret::new(p.clone()),
        })
    }

    pub fn source(&self, env: &str) -> Option<Source> {
        self.values.get(env).map(|(_, source)| *source)
    }

    /// Where a secret in effect is kept, when that is somewhere a client can be pointed at
    /// (its `NAME_FILE`, or the keychain the server reads itself); `None` for a secret given
    /// in clear.
    pub fn kept(&self, name: SecretName) -> Option<Kept> {
        match self.source(name.env())? {
            Source::File => self.secret_files.get(name.env()).cloned().map(Kept::File),
            Source::Keychain => Some(Kept::Keychain),
            _ => None,
        }
    }
}

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// The OS keychain, under the secret's service (see [`SecretName::keychain_service`]).
    Keychain,
    /// A file, absolute, read by the rule of [`secret_file`].
    File(PathBuf),
}

/// Everything the resolver reads, gathered by the caller so resolution itself is testable.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// Flag values keyed by the setting's variable name.
    pub flags: &'a BTreeMap<&'static str, String>,
    pub env: &'a Environment,
    pub dotenv: &'a DotEnv,
    pub config: &'a ConfigFile,
    pub keychain: &'a Keychain,
    /// Relative `_FILE` paths from the environment are read from here (those from a `.env`
    /// file, relative to that file).
    pub cwd: &'a Path,
}

/// Where a secret may come from (`auto`: anywhere in the precedence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecretSource {
    Environment,
    File,
    Keychain,
    Auto,
}

impl SecretSource {
    fn parse(value: &str, setting: &str) -> Result<Self, SettingsError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "environment" | "env" => Ok(SecretSource::Environment),
            "file" => Ok(SecretSource::File),
            "keychain" => Ok(SecretSource::Keychain),
            "auto" => Ok(SecretSource::Auto),
            other => Err(SettingsError::new(
                format!("{setting} is '{other}'"),
                "use environment, file, keychain or auto",
            )),
        }
    }

    fn allows(self, source: Source) -> bool {
        match self {
            SecretSource::Auto => true,
            SecretSource::Environment => matches!(source, Source::Env | Source::Dotenv),
            SecretSource::File => source == Source::File,
            SecretSource::Keychain => source == Source::Keychain,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SecretSource::Environment => "the environment",
            SecretSource::File => "a *_FILE secret file",
            SecretSource::Keychain => "the OS keychain",
            SecretSource::Auto => "anywhere",
        }
    }
}

fn non_empty<'a>(map: &'a Environment, name: &str) -> Option<&'a str> {
    map.get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

pub fn resolve(inputs: &Inputs<'_>) -> Result<Resolved, SettingsError> {
    let mut resolved = Resolved {
        config_path: inputs.config.path.clone(),
        ..Resolved::default()
    };
    for key in KEYS.iter().filter(|k| !matches!(k.kind, Kind::Secret(_))) {
        if let Some(found) = plain_value(key, inputs) {
            if let Some(kind) = Placeholder::find(found.0.text()) {
                resolved
                    .warnings
                    .push(placeholder::warning(key.env, found.0.text(), kind));
                resolved
                    .unexpanded
                    .insert(key.env, found.0.text().to_owned());
                continue;
            }
            resolved.values.insert(key.env, found);
        }
    }
    let db_rule = SecretSource::parse(
        resolved.get("MEM0_DB_SECRET_SOURCE").unwrap_or("auto"),
        "storage.auth_method (MEM0_DB_SECRET_SOURCE)",
    )?;
    let jwt_rule = SecretSource::parse(
        resolved.get("MEM0_JWT_SECRET_SOURCE").unwrap_or("auto"),
        "security.jwt_secret_source (MEM0_JWT_SECRET_SOURCE)",
    )?;
    for name in SecretName::ALL {
        let (rule, rule_name) = match name {
            SecretName::DatabaseUrl | SecretName::DbPassword => {
                (db_rule, "storage.auth_method (MEM0_DB_SECRET_SOURCE)")
            }
            SecretName::JwtSecret => (
                jwt_rule,
                "security.jwt_secret_source (MEM0_JWT_SECRET_SOURCE)",
            ),
            SecretName::Token | SecretName::EmbeddingApiKey => (SecretSource::Auto, ""),
        };
        if let Some((secret, source)) =
            secret_value(name, rule, rule_name, inputs, &mut resolved.warnings)?
        {
            // A token is letters, digits and `_-.`: a placeholder in its place is never one
            // (other secrets, such as passwords, may hold `$` or `%` on purpose).
            if name == SecretName::Token
                && let Some(kind) = Placeholder::find(secret.expose())
            {
                resolved
                    .warnings
                    .push(placeholder::warning(name.env(), kind.shape(), kind));
                resolved.unexpanded.insert(name.env(), kind.shape().into());
                continue;
            }
            if source == Source::File
                && let Some(path) = secret_file_path(name, inputs)?
            {
                resolved.secret_files.insert(name.env(), path);
            }
            resolved
                .values
                .insert(name.env(), (Raw::Secret(secret), source));
        }
    }
    check_rule_is_met(
        &resolved,
        db_rule,
        "storage.auth_method (MEM0_DB_SECRET_SOURCE)",
        &[SecretName::DatabaseUrl, SecretName::DbPassword],
    )?;
    check_rule_is_met(
        &resolved,
        jwt_rule,
        "security.jwt_secret_source (MEM0_JWT_SECRET_SOURCE)",
        &[SecretName::JwtSecret],
    )?;
    Ok(resolved)
}

fn plain_value(key: &Key, inputs: &Inputs<'_>) -> Option<(Raw, Source)> {
    let from = |value: &str, source| Some((Raw::Plain(value.trim().to_owned()), source));
    if let Some(v) = inputs.flags.get(key.env).filter(|v| !v.trim().is_empty()) {
        return from(v, Source::Flag);
    }
    if let Some(v) = non_empty(inputs.env, key.env) {
        return from(v, Source::Env);
    }
    if let Some(v) = inputs.config.values.get(key.env) {
        return from(v, Source::Config);
    }
    if let Some(v) = non_empty(&inputs.dotenv.values, key.env) {
        return from(v, Source::Dotenv);
    }
    key.default.and_then(|d| from(d, Source::Default))
}

/// A database URL without a password is not secret, so the source rule does not bind it.
fn exempt_from_rule(name: SecretName, value: &Secret) -> bool {
    name == SecretName::DatabaseUrl && !super::pg_url::has_password(value.expose())
}

fn secret_value(
    name: SecretName,
    rule: SecretSource,
    rule_name: &str,
    inputs: &Inputs<'_>,
    warnings: &mut Vec<Problem>,
) -> Result<Option<(Secret, Source)>, SettingsError> {
    let env_name = name.env();
    let file_name = format!("{env_name}_FILE");
    for (map, origin) in [
        (inputs.env, "the environment"),
        (&inputs.dotenv.values, ".env"),
    ] {
        if non_empty(map, env_name).is_some() && non_empty(map, &file_name).is_some() {
            return Err(SettingsError::new(
                format!("both {env_name} and {file_name} are set in {origin}"),
                "keep only one of them",
            ));
        }
    }
    let accept =
        |secret: Secret, source: Source| -> Result<Option<(Secret, Source)>, SettingsError> {
            if rule.allows(source) || exempt_from_rule(name, &secret) {
                Ok(Some((secret, source)))
            } else {
                Err(SettingsError::new(
                    format!(
                        "{env_name} comes from {} ({}), but {rule_name} says it must come from {}",
                        describe_source(source),
                        source.as_str(),
                        rule.describe()
                    ),
                    "move it there, or set that option to auto",
                ))
            }
        };
    if let Some(v) = non_empty(inputs.env, env_name) {
        return accept(Secret::new(v), Source::Env);
    }
    if let Some(path) = secret_file_path(name, inputs)? {
        let secret = read_secret_file(&file_name, &path, warnings)?;
        return accept(secret, Source::File);
    }
    if matches!(rule, SecretSource::Auto | SecretSource::Keychain) {
        match inputs.keychain.get(name) {
            Lookup::Found(secret) => return accept(secret, Source::Keychain),
            Lookup::Missing => {}
            Lookup::Unavailable(reason) if rule == SecretSource::Keychain => {
                return Err(SettingsError::new(
                    format!(
                        "{rule_name} is keychain, but the OS keychain cannot be used ({reason})"
                    ),
                    super::keychain::INSTALL_HINT,
                ));
            }
            Lookup::Unavailable(_) => {}
        }
    }
    if let Some(v) = inputs.config.values.get(env_name) {
        // Only the database URL has a config key, and it must not embed a password.
        if super::pg_url::has_password(v) {
            return Err(SettingsError::new(
                format!(
                    "storage.database_url in the config file {} embeds a password",
                    inputs
                        .config
                        .path
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
                "remove it from the file and give the password through MEM0_DB_PASSWORD, MEM0_DB_PASSWORD_FILE or the keychain",
            ));
        }
        return accept(Secret::new(v.clone()), Source::Config);
    }
    if let Some(v) = non_empty(&inputs.dotenv.values, env_name) {
        return accept(Secret::new(v), Source::Dotenv);
    }
    Ok(None)
}

/// The absolute path `NAME_FILE` names: from the environment relative to the working
/// directory, from a `.env` file relative to that file's directory.
///
/// A relative path from a project directory's `.env` that climbs out of it (`..`) is refused
/// even when the file is trusted: a secret file a project names belongs inside the project, and
/// `../../.ssh/id_ed25519` is how a planted file would send a key away.
fn secret_file_path(
    name: SecretName,
    inputs: &Inputs<'_>,
) -> Result<Option<PathBuf>, SettingsError> {
    let file_name = format!("{}_FILE", name.env());
    if let Some(path) = non_empty(inputs.env, &file_name) {
        return Ok(Some(inputs.cwd.join(path.trim())));
    }
    let Some(path) = non_empty(&inputs.dotenv.values, &file_name) else {
        return Ok(None);
    };
    let relative = Path::new(path.trim());
    let base = inputs
        .dotenv
        .dirs
        .get(&file_name)
        .map(PathBuf::as_path)
        .unwrap_or(inputs.cwd);
    let climbs = relative.is_relative()
        && relative
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
    if climbs && inputs.dotenv.project_local.contains(&file_name) {
        return Err(SettingsError::new(
            format!(
                "{file_name} in {} names a file outside that directory ({})",
                base.join(".env").display(),
                relative.display()
            ),
            "name a file inside the project, or set it in the environment or the config directory's .env",
        ));
    }
    Ok(Some(base.join(relative)))
}

fn describe_source(source: Source) -> &'static str {
    match source {
        Source::Flag => "a command-line flag",
        Source::Env => "the environment",
        Source::File => "a *_FILE secret file",
        Source::Keychain => "the OS keychain",
        Source::Config => "the config file",
        Source::Dotenv => "a .env file",
        Source::Default => "the defaults",
    }
}

/// An explicit `file` or `keychain` rule with nothing there is a misconfiguration.
fn check_rule_is_met(
    resolved: &Resolved,
    rule: SecretSource,
    rule_name: &str,
    secrets: &[SecretName],
) -> Result<(), SettingsError> {
    if !matches!(rule, SecretSource::File | SecretSource::Keychain) {
        return Ok(());
    }
    let met = secrets.iter().any(|s| {
        resolved
            .values
            .get(s.env())
            .is_some_and(|(_, source)| rule.allows(*source))
    });
    if met {
        return Ok(());
    }
    let wanted: Vec<String> = secrets
        .iter()
        .map(|s| match rule {
            SecretSource::File => format!("{}_FILE", s.env()),
            _ => format!(
                "keychain service {} (mem0-mcp secret set {})",
                s.keychain_service(),
                s.cli_name()
            ),
        })
        .collect();
    Err(SettingsError::new(
        format!("{rule_name} is {}, but nothing is there", rule.describe()),
        format!("set {}, or set that option to auto", wanted.join(" or ")),
    ))
}

/// Reads a Docker/Kubernetes-style secret file (see [`secret_file`] for the trimming rule); a
/// missing, unreadable or empty file is an error; one readable by group or others earns a
/// warning.
fn read_secret_file(
    variable: &str,
    path: &Path,
    warnings: &mut Vec<Problem>,
) -> Result<Secret, SettingsError> {
    let secret = secret_file::read(path).map_err(|e| match e {
        SecretFileError::Unreadable(e) => SettingsError::new(
            format!(
                "{variable} points at {}, which cannot be read ({})",
                path.display(),
                e.kind()
            ),
            "fix the path or the file's permissions",
        ),
        SecretFileError::Empty => SettingsError::new(
            format!("{variable} points at {}, which is empty", path.display()),
            "write the secret into it",
        ),
    })?;
    if crate::files::readable_by_others(path) {
        warnings.push(Problem::new(
            format!(
                "{variable} points at {}, which group or others can read",
                path.display()
            ),
            format!("chmod 600 {}", path.display()),
        ));
    }
    Ok(secret)
}
