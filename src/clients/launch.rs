//! How a client starts the server: the program and the variables it sets. [`Launch::carrying`]
//! builds the launch that makes a client's server see the settings in effect here, without
//! pasting a secret unless asked: a secret read from a file becomes its `NAME_FILE` reference,
//! one in the keychain is left out (the server reads the keychain itself), and one only in the
//! environment gets a note on how to store it. [`server_environment`], [`resolve_command`] and
//! [`pasted_secrets`] go the other way, from a client's entry to the server it would start.

use std::path::{Path, PathBuf};

use crate::settings::keys::{KEYS, Kind};
use crate::settings::{
    DatabaseTarget, Environment, Loaded, PgUrl, SQLITE_FILE, SecretName, Source, secret_file,
};

/// How a client starts the server: the program, its arguments and the variables it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub command: PathBuf,
    pub args: Vec<String>,
    /// In the order they should appear.
    pub env: Vec<(String, String)>,
}

impl Launch {
    pub fn new(command: impl Into<PathBuf>) -> Self {
        Launch {
            command: command.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// Sets a variable, replacing an earlier value in place.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.env.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.env.push((name, value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the launch pastes a secret in clear (then the file holding it must be
    /// owner-only).
    pub fn has_clear_secret(&self) -> bool {
        self.env
            .iter()
            .any(|(name, _)| SecretName::ALL.iter().any(|s| s.env() == name))
    }

    /// How a client should start `binary` so the server sees what this process sees, and
    /// notes (one sentence each) on anything it cannot carry over without pasting a secret;
    /// `show_secrets` pastes secrets that only the environment holds.
    pub fn carrying(loaded: &Loaded, binary: PathBuf, show_secrets: bool) -> (Launch, Vec<String>) {
        let mut carry = Carry {
            loaded,
            show_secrets,
            launch: Launch::new(binary),
            notes: Vec::new(),
            handled: vec![
                "MEM0_DATABASE_URL",
                "MEM0_DB_HOST",
                "MEM0_DB_PORT",
                "MEM0_DB_NAME",
                "MEM0_DB_USER",
                "MEM0_DB_PASSWORD",
                "MEM0_TOKEN",
                "MEM0_JWT_SECRET",
                "MEM0_DATA_DIR",
                "MEM0_CONFIG",
                "MEM0_USER_ID",
            ],
        };
        match &loaded.settings.database {
            DatabaseTarget::Postgres(url) => carry.postgres(url),
            DatabaseTarget::Sqlite(path) => carry.sqlite(path),
        }
        carry.user();
        carry.token();
        carry.embedding_key();
        carry.config_file();
        carry.the_rest();
        (carry.launch, carry.notes)
    }
}

/// The TLS settings, which the server adds to the database URL.
const TLS_SETTINGS: [&str; 4] = [
    "MEM0_DB_SSLMODE",
    "MEM0_DB_SSLCERT",
    "MEM0_DB_SSLKEY",
    "MEM0_DB_SSLROOTCERT",
];

/// A launch being built from the settings in effect.
struct Carry<'a> {
    loaded: &'a Loaded,
    show_secrets: bool,
    launch: Launch,
    notes: Vec<String>,
    /// Settings carried over (or left out on purpose) by a rule of their own.
    handled: Vec<&'static str>,
}

impl Carry<'_> {
    fn is_postgres(&self) -> bool {
        matches!(self.loaded.settings.database, DatabaseTarget::Postgres(_))
    }

    /// A secret reaches the client as a file reference, not at all (keychain), or in clear
    /// only when asked.
    fn secret(&mut self, name: SecretName, value: &str) {
        let resolved = &self.loaded.resolved;
        match resolved.source(name.env()) {
            Some(Source::File) => {
                if let Some(path) = resolved.secret_files.get(name.env()) {
                    self.launch
                        .set(format!("{}_FILE", name.env()), path.display().to_string());
                }
            }
            Some(Source::Keychain) => self.notes.push(format!(
                "{} comes from the OS keychain (service {}), which the server reads itself; the client configuration does not mention it.",
                name.env(),
                name.keychain_service()
            )),
            _ if self.show_secrets => self.launch.set(name.env(), value),
            _ => self.notes.push(format!(
                "{} is set here only in clear ({}), so it is left out: store it with `mem0-mcp secret set {}` (the keychain) or in an owner-only file named by {}_FILE, or pass --show-secrets to paste it.",
                name.env(),
                resolved.source(name.env()).map(Source::as_str).unwrap_or("composed"),
                name.cli_name(),
                name.env()
            )),
        }
    }

    fn postgres(&mut self, url: &PgUrl) {
        self.handled.extend(TLS_SETTINGS);
        let resolved = &self.loaded.resolved;
        if let Some(Source::File | Source::Keychain) = resolved.source("MEM0_DATABASE_URL") {
            self.secret(SecretName::DatabaseUrl, url.connection_string().expose());
            // The TLS settings are added to the URL the server reads; pass them on.
            for name in TLS_SETTINGS {
                if let Some(value) = resolved.get(name) {
                    self.launch.set(name, value);
                }
            }
            return;
        }
        // The URL (composed from the parts if need be, TLS settings included), without its
        // password.
        let safe = url.without_password();
        match (resolved.source("MEM0_DB_PASSWORD"), url.password()) {
            (Some(_), Some(password)) => {
                self.launch.set("MEM0_DATABASE_URL", safe);
                self.secret(SecretName::DbPassword, password.expose());
            }
            (None, Some(_)) if self.show_secrets => self
                .launch
                .set("MEM0_DATABASE_URL", url.connection_string().expose()),
            (None, Some(_)) => {
                self.launch.set("MEM0_DATABASE_URL", safe);
                self.notes.push("the database URL here carries a password, which is left out: store the password with `mem0-mcp secret set db-password` or in an owner-only file named by MEM0_DB_PASSWORD_FILE, or pass --show-secrets to paste it.".into());
            }
            (_, None) => {
                self.launch.set("MEM0_DATABASE_URL", safe);
                if let Some(path) = secret_file::kept_by_init(secret_file::PASSWORD_FILE) {
                    self.launch
                        .set("MEM0_DB_PASSWORD_FILE", path.display().to_string());
                }
            }
        }
    }

    fn sqlite(&mut self, path: &Path) {
        let settings = &self.loaded.settings;
        let default_dir = crate::settings::default_data_dir();
        if default_dir.as_deref() != Some(settings.data_dir.as_path()) {
            self.launch
                .set("MEM0_DATA_DIR", settings.data_dir.display().to_string());
        }
        if *path != settings.data_dir.join(SQLITE_FILE) {
            self.launch
                .set("MEM0_DATABASE_URL", format!("sqlite://{}", path.display()));
        }
    }

    fn user(&mut self) {
        if let Some(user) = &self.loaded.settings.user_id {
            self.launch.set("MEM0_USER_ID", user.as_str());
        } else if self.is_postgres() {
            self.notes.push(
                "MEM0_USER_ID is not set: add the user id your token was created for.".into(),
            );
        }
    }

    fn token(&mut self) {
        let settings = &self.loaded.settings;
        match &settings.token {
            Some(token) => {
                self.secret(SecretName::Token, token.expose());
                if crate::auth::jwt::looks_like_jwt(token.expose())
                    && let Some(jwt) = &settings.jwt_secret
                {
                    self.secret(SecretName::JwtSecret, jwt.expose());
                }
            }
            None if self.is_postgres() => {
                match secret_file::kept_by_init(secret_file::TOKEN_FILE) {
                    Some(path) => self.launch.set("MEM0_TOKEN_FILE", path.display().to_string()),
                    None => self.notes.push(
                        "no token is configured here (MEM0_TOKEN, MEM0_TOKEN_FILE or the keychain): `mem0-mcp init` creates and stores one, or create one with `mem0-mcp token create --user-id YOU`.".into(),
                    ),
                }
            }
            None => {}
        }
    }

    /// The embedding endpoint's API key, like every other secret.
    fn embedding_key(&mut self) {
        if let crate::settings::EmbeddingProvider::OpenAi {
            api_key: Some(key), ..
        } = &self.loaded.settings.embeddings.provider
        {
            self.secret(SecretName::EmbeddingApiKey, key.expose());
        }
    }

    /// A config file found in the current directory is not found by a client started
    /// elsewhere.
    fn config_file(&mut self) {
        if let Some(config) = &self.loaded.resolved.config_path {
            let in_config_dir = crate::settings::config_file::config_dir()
                .is_some_and(|dir| config.parent() == Some(dir.as_path()));
            if !in_config_dir {
                let absolute = std::path::absolute(config).unwrap_or_else(|_| config.clone());
                self.launch
                    .set("MEM0_CONFIG", absolute.display().to_string());
            }
        }
    }

    /// Everything else set here on purpose (not from a config file the server reads too).
    fn the_rest(&mut self) {
        let (resolved, settings) = (&self.loaded.resolved, &self.loaded.settings);
        for key in KEYS {
            if self.handled.contains(&key.env) || matches!(key.kind, Kind::Secret(_)) {
                continue;
            }
            if let Some(Source::Flag | Source::Env | Source::Dotenv) = resolved.source(key.env)
                && let Some(value) = resolved.get(key.env)
            {
                let value = if key.env == "PROJECT_DIR" {
                    settings
                        .project_dir
                        .as_ref()
                        .map(|d| d.display().to_string())
                        .unwrap_or_else(|| value.to_owned())
                } else if let (
                    "MEM0_EMBEDDING_MODEL",
                    crate::settings::EmbeddingProvider::Builtin { model_dir },
                ) = (key.env, &settings.embeddings.provider)
                {
                    // A directory relative to here means nothing where the client starts.
                    model_dir.display().to_string()
                } else {
                    value.to_owned()
                };
                self.launch.set(key.env, value);
            }
        }
    }
}

/// The environment a client starts the server with, given `entry` (a server entry of its
/// configuration file): this process's environment without any mem0 variable, plus what the
/// entry sets. Values the client expands itself, like `${workspaceFolder}`, cannot be known
/// here and are left out, except `PROJECT_DIR`, kept so a check can say the client decides it.
pub fn server_environment(process_env: &Environment, entry: &serde_json::Value) -> Environment {
    let mut env: Environment = process_env
        .iter()
        .filter(|(k, _)| !k.starts_with("MEM0_") && !k.starts_with("PROJECT_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(vars) = entry.get("env").and_then(|e| e.as_object()) {
        for (name, value) in vars {
            if let Some(value) = value.as_str()
                && (!value.contains("${") || name == "PROJECT_DIR")
            {
                env.insert(name.clone(), value.to_owned());
            }
        }
    }
    env
}

/// Resolves a command as a client would: a bare name through `PATH` in `env`; `None` when
/// nothing by that name exists.
pub fn resolve_command(command: &str, env: &Environment) -> Option<PathBuf> {
    let path = Path::new(command);
    if path.components().count() > 1 || path.is_absolute() {
        return path.canonicalize().ok();
    }
    let search = env.get("PATH")?;
    std::env::split_paths(search)
        .map(|dir| dir.join(command))
        .find(|candidate| candidate.is_file())
        .and_then(|p| p.canonicalize().ok())
}

/// The variables of a client's server entry that paste a secret in clear (a database URL only
/// when it carries a password).
pub fn pasted_secrets(entry: &serde_json::Value) -> Vec<&str> {
    entry
        .get("env")
        .and_then(|e| e.as_object())
        .map(|vars| {
            vars.iter()
                .filter(|(k, v)| {
                    (*k == "MEM0_TOKEN" || *k == "MEM0_DB_PASSWORD" || *k == "MEM0_JWT_SECRET")
                        || (*k == "MEM0_DATABASE_URL"
                            && v.as_str()
                                .is_some_and(crate::settings::pg_url::has_password))
                })
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default()
}
