//! The registry of settings: each one's variable name, config-file key, command-line flag and
//! whether it is a secret. `config show`, the resolver and the docs all read this one table.

/// A secret the server can read from `NAME`, `NAME_FILE` or the OS keychain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretName {
    JwtSecret,
    DbPassword,
    DatabaseUrl,
    Token,
    EmbeddingApiKey,
}

impl SecretName {
    pub const ALL: [SecretName; 5] = [
        SecretName::JwtSecret,
        SecretName::DbPassword,
        SecretName::DatabaseUrl,
        SecretName::Token,
        SecretName::EmbeddingApiKey,
    ];

    /// The keychain service; the account is always [`KEYCHAIN_ACCOUNT`].
    pub fn keychain_service(self) -> &'static str {
        match self {
            SecretName::JwtSecret => "mem0-jwt",
            SecretName::DbPassword => "mem0-db-password",
            SecretName::DatabaseUrl => "mem0-database-url",
            SecretName::Token => "mem0-token",
            SecretName::EmbeddingApiKey => "mem0-embedding-key",
        }
    }

    /// The name `mem0-mcp secret set NAME` takes.
    pub fn cli_name(self) -> &'static str {
        match self {
            SecretName::JwtSecret => "jwt-secret",
            SecretName::DbPassword => "db-password",
            SecretName::DatabaseUrl => "database-url",
            SecretName::Token => "token",
            SecretName::EmbeddingApiKey => "embedding-api-key",
        }
    }

    pub fn from_cli_name(name: &str) -> Option<Self> {
        SecretName::ALL.into_iter().find(|s| s.cli_name() == name)
    }

    pub fn env(self) -> &'static str {
        match self {
            SecretName::JwtSecret => "MEM0_JWT_SECRET",
            SecretName::DbPassword => "MEM0_DB_PASSWORD",
            SecretName::DatabaseUrl => "MEM0_DATABASE_URL",
            SecretName::Token => "MEM0_TOKEN",
            SecretName::EmbeddingApiKey => "MEM0_EMBEDDING_API_KEY",
        }
    }
}

/// The keychain account every secret is stored under.
pub const KEYCHAIN_ACCOUNT: &str = "mem0";

/// How a value is shown by `config show --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Bool,
    Secret(SecretName),
}

#[derive(Debug)]
pub struct Key {
    /// The environment variable (also the name in `.env` and in `config show`).
    pub env: &'static str,
    /// The dotted key in mem0.config.json, if it has one.
    pub config: Option<&'static str>,
    /// The long command-line flag, if it has one (never for secrets).
    pub flag: Option<&'static str>,
    pub kind: Kind,
    pub default: Option<&'static str>,
}

const fn key(env: &'static str, kind: Kind) -> Key {
    Key {
        env,
        config: None,
        flag: None,
        kind,
        default: None,
    }
}

const fn with_config(mut k: Key, config: &'static str) -> Key {
    k.config = Some(config);
    k
}

const fn with_flag(mut k: Key, flag: &'static str) -> Key {
    k.flag = Some(flag);
    k
}

const fn with_default(mut k: Key, default: &'static str) -> Key {
    k.default = Some(default);
    k
}

use Kind::*;

pub const KEYS: &[Key] = &[
    with_config(
        key("MEM0_DATABASE_URL", Secret(SecretName::DatabaseUrl)),
        "storage.database_url",
    ),
    key("MEM0_DB_HOST", Text),
    key("MEM0_DB_PORT", Number),
    key("MEM0_DB_NAME", Text),
    key("MEM0_DB_USER", Text),
    key("MEM0_DB_PASSWORD", Secret(SecretName::DbPassword)),
    key("MEM0_DB_SSLMODE", Text),
    key("MEM0_DB_SSLCERT", Text),
    key("MEM0_DB_SSLKEY", Text),
    key("MEM0_DB_SSLROOTCERT", Text),
    key("MEM0_JWT_SECRET", Secret(SecretName::JwtSecret)),
    key("MEM0_TOKEN", Secret(SecretName::Token)),
    with_flag(key("MEM0_USER_ID", Text), "user-id"),
    with_default(
        with_flag(key("PROJECT_ID_MODE", Text), "project-id-mode"),
        "auto",
    ),
    with_flag(key("PROJECT_ID", Text), "project-id"),
    with_flag(key("PROJECT_DIR", Text), "project-dir"),
    with_flag(key("MEM0_CONFIG", Text), "config"),
    with_flag(key("MEM0_DATA_DIR", Text), "data-dir"),
    with_default(
        with_flag(key("MEM0_LOG", Text), "log"),
        "warn,mem0_mcp=info",
    ),
    with_default(
        with_config(key("MEM0_TIMEOUT", Number), "server.timeout"),
        "10",
    ),
    with_default(
        with_config(key("MEM0_HTTP_HOST", Text), "server.host"),
        "127.0.0.1",
    ),
    with_default(
        with_config(key("MEM0_HTTP_PORT", Number), "server.port"),
        "13370",
    ),
    with_config(
        key("MEM0_HTTP_ALLOWED_ORIGINS", Text),
        "server.allowed_origins",
    ),
    with_config(key("MEM0_HTTP_ALLOWED_HOSTS", Text), "server.allowed_hosts"),
    with_config(
        key("MEM0_HTTP_TRUSTED_PROXIES", Text),
        "server.trusted_proxies",
    ),
    with_config(key("MEM0_HTTP_TLS_CERT", Text), "server.tls_cert"),
    with_config(key("MEM0_HTTP_TLS_KEY", Text), "server.tls_key"),
    with_default(
        with_config(key("MEM0_HTTP_POOL_SIZE", Number), "server.pool_size"),
        "10",
    ),
    with_config(key("MEM0_SERVER_URL", Text), "server.url"),
    with_config(key("MEM0_SERVER_CA", Text), "server.ca"),
    with_config(key("MEM0_STORAGE_TYPE", Text), "storage.type"),
    with_default(
        with_config(key("MEM0_DB_SECRET_SOURCE", Text), "storage.auth_method"),
        "auto",
    ),
    with_default(
        with_config(key("MEM0_BACKUP_ENABLED", Bool), "storage.backup_enabled"),
        "true",
    ),
    with_default(
        with_config(
            key("MEM0_MAX_MEMORIES_PER_CONTEXT", Number),
            "storage.max_memories_per_context",
        ),
        "1000",
    ),
    with_default(
        with_config(
            key("MEM0_JWT_SECRET_SOURCE", Text),
            "security.jwt_secret_source",
        ),
        "auto",
    ),
    with_default(
        with_config(
            key("MEM0_DATABASE_AUTH_METHOD", Text),
            "security.database_auth_method",
        ),
        "auto",
    ),
    with_default(
        with_config(key("MEM0_EMBEDDING_PROVIDER", Text), "embeddings.provider"),
        "none",
    ),
    with_config(key("MEM0_EMBEDDING_MODEL", Text), "embeddings.model"),
    with_config(key("MEM0_EMBEDDING_URL", Text), "embeddings.url"),
    with_default(
        with_config(key("MEM0_MODEL_URL", Text), "embeddings.model_url"),
        super::embeddings::DEFAULT_MODEL_URL,
    ),
    key(
        "MEM0_EMBEDDING_API_KEY",
        Secret(SecretName::EmbeddingApiKey),
    ),
];

pub fn by_env(env: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.env == env)
}

pub fn by_config(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.config == Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_no_flag_and_every_secret_is_registered() {
        for k in KEYS {
            if matches!(k.kind, Secret(_)) {
                assert!(k.flag.is_none(), "{} is a secret with a flag", k.env);
            }
        }
        for s in SecretName::ALL {
            let k = by_env(s.env()).expect("registered");
            assert_eq!(k.kind, Secret(s));
            assert_eq!(SecretName::from_cli_name(s.cli_name()), Some(s));
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in KEYS.iter().enumerate() {
            for b in &KEYS[i + 1..] {
                assert_ne!(a.env, b.env);
                assert!(a.config.is_none() || a.config != b.config);
                assert!(a.flag.is_none() || a.flag != b.flag);
            }
        }
    }
}
