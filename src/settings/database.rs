//! Which database to use: `MEM0_DATABASE_URL`, or a PostgreSQL URL composed from
//! `MEM0_DB_HOST` / `PORT` / `NAME` / `USER` / `PASSWORD`, plus the TLS and client certificate
//! settings; the embedded SQLite file when nothing is configured. The result is checked against
//! `security.database_auth_method`. The URL itself is taken apart by [`super::pg_url`].

use std::path::{Path, PathBuf};

use super::SettingsError;
use super::keys::SecretName;
use super::pg_url::{Parts, PgUrl};
use super::sources::{Raw, Resolved, Source};

/// The name of the embedded database file inside the data directory.
pub const SQLITE_FILE: &str = "mem0.db";

/// Where memories are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A `postgresql://` URL, its password held apart.
    Postgres(PgUrl),
    /// The embedded database file.
    Sqlite(PathBuf),
}

impl DatabaseTarget {
    /// `PostgreSQL`, or `embedded SQLite at PATH`: for people, never with a password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Postgres(_) => "PostgreSQL".into(),
            DatabaseTarget::Sqlite(path) => format!("embedded SQLite at {}", path.display()),
        }
    }
}

/// The database the resolved settings select.
///
/// # Errors
///
/// A [`SettingsError`] naming the setting when the settings contradict each other (a URL and
/// `MEM0_DB_*` parts, `storage.type` against the URL, two passwords, a TLS parameter twice),
/// when a value is malformed (scheme, port, certificate path) or when the connection does not
/// match `security.database_auth_method`.
pub fn target(resolved: &Resolved, data_dir: &Path) -> Result<DatabaseTarget, SettingsError> {
    let wants_sqlite = storage_type(resolved)?;
    let url = resolved.secret(SecretName::DatabaseUrl);
    let parts: Vec<&str> = [
        "MEM0_DB_HOST",
        "MEM0_DB_PORT",
        "MEM0_DB_NAME",
        "MEM0_DB_USER",
    ]
    .into_iter()
    .filter(|k| resolved.get(k).is_some())
    .collect();

    if let Some(url) = &url
        && let Some(path) = url.expose().strip_prefix("sqlite://")
    {
        return sqlite_file(path, wants_sqlite);
    }
    if wants_sqlite == Some(true) {
        if url.is_some() || !parts.is_empty() {
            return Err(SettingsError::new(
                "storage.type is sqlite but a PostgreSQL connection is configured too (MEM0_DATABASE_URL or MEM0_DB_*)",
                "remove one of them",
            ));
        }
        return Ok(DatabaseTarget::Sqlite(data_dir.join(SQLITE_FILE)));
    }
    let url = match (&url, parts.is_empty()) {
        (Some(url), _) => {
            let url = PgUrl::parse(url.expose()).map_err(|e| {
                // The "scheme" of text that is no URL may be anything, a password included.
                let plausible = e.scheme.len() <= 20
                    && e.scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
                SettingsError::new(
                    if plausible {
                        format!(
                            "MEM0_DATABASE_URL has the scheme '{}', which is not supported",
                            e.scheme
                        )
                    } else {
                        "MEM0_DATABASE_URL is not a URL".to_owned()
                    },
                    "use postgresql://user@host:5432/database or sqlite:///path/to/mem0.db",
                )
            })?;
            if !parts.is_empty() {
                return Err(SettingsError::new(
                    format!("both MEM0_DATABASE_URL and {} are set", parts.join(", ")),
                    "give the connection one way, either the URL or the MEM0_DB_* parts",
                ));
            }
            url
        }
        (None, false) => compose(resolved)?,
        (None, true) => {
            if wants_sqlite == Some(false) {
                return Err(SettingsError::new(
                    "storage.type is database but no PostgreSQL connection is configured",
                    "set MEM0_DATABASE_URL, storage.database_url or MEM0_DB_HOST/MEM0_DB_NAME/MEM0_DB_USER",
                ));
            }
            check_no_stray_password(resolved)?;
            return Ok(DatabaseTarget::Sqlite(data_dir.join(SQLITE_FILE)));
        }
    };
    let url = with_tls(resolved, with_password(resolved, url)?)?;
    check_auth_method(resolved, &url)?;
    Ok(DatabaseTarget::Postgres(url))
}

/// The URL the server composes from these `MEM0_DB_*` values alone (no password, no TLS
/// setting, so `sslmode=disable` on loopback): what `init` offers for its `--db-*` flags.
///
/// # Errors
///
/// A [`SettingsError`] for a port that is not a port number.
pub fn compose_url(parts: Parts<'_>) -> Result<PgUrl, SettingsError> {
    let mut resolved = Resolved::default();
    for (name, value) in [
        ("MEM0_DB_HOST", parts.host),
        ("MEM0_DB_PORT", parts.port),
        ("MEM0_DB_NAME", parts.database),
        ("MEM0_DB_USER", parts.user),
    ] {
        if let Some(value) = value {
            resolved
                .values
                .insert(name, (Raw::Plain(value.to_owned()), Source::Flag));
        }
    }
    with_tls(&resolved, compose(&resolved)?)
}

/// `storage.type`: `Some(true)` for sqlite, `Some(false)` for PostgreSQL, `None` when unset.
fn storage_type(resolved: &Resolved) -> Result<Option<bool>, SettingsError> {
    let storage_type = resolved
        .get("MEM0_STORAGE_TYPE")
        .map(|t| t.to_ascii_lowercase());
    match storage_type.as_deref() {
        None => Ok(None),
        Some("sqlite") => Ok(Some(true)),
        Some("database" | "postgres" | "postgresql") => Ok(Some(false)),
        Some(other) => Err(SettingsError::new(
            format!("storage.type (MEM0_STORAGE_TYPE) is '{other}'"),
            "use database (PostgreSQL) or sqlite",
        )),
    }
}

/// The file a `sqlite://PATH` URL names (`sqlite:///abs` is absolute, `sqlite://rel` relative).
fn sqlite_file(path: &str, wants_sqlite: Option<bool>) -> Result<DatabaseTarget, SettingsError> {
    if wants_sqlite == Some(false) {
        return Err(SettingsError::new(
            "MEM0_DATABASE_URL is a sqlite:// URL but storage.type is database",
            "make them agree",
        ));
    }
    let path = path.split('?').next().unwrap_or_default();
    // A file has no user, password, host or port: `sqlite://user:pw@/x.db` or
    // `sqlite://localhost:5432/x.db` is a PostgreSQL URL with the wrong scheme, not a path.
    let authority = path.split('/').next().unwrap_or_default();
    if authority.contains(['@', ':']) || path.chars().any(char::is_control) {
        return Err(SettingsError::new(
            "MEM0_DATABASE_URL is a sqlite:// URL with a user, password, port or control character, which a database file cannot have",
            "use sqlite:///absolute/path/mem0.db, or postgresql://… for a database server",
        ));
    }
    if path.is_empty() {
        return Err(SettingsError::new(
            "MEM0_DATABASE_URL is sqlite:// without a file path",
            "use sqlite:///absolute/path/mem0.db",
        ));
    }
    Ok(DatabaseTarget::Sqlite(
        std::path::absolute(path).unwrap_or_else(|_| path.into()),
    ))
}

/// A database password with no database is a mistake, unless it sits in the keychain, where a
/// password left over must not break the embedded database.
fn check_no_stray_password(resolved: &Resolved) -> Result<(), SettingsError> {
    match resolved.source(SecretName::DbPassword.env()) {
        None | Some(Source::Keychain) => Ok(()),
        Some(source) => Err(SettingsError::new(
            format!(
                "MEM0_DB_PASSWORD is set (from {}) but no database is",
                source.as_str()
            ),
            "set MEM0_DATABASE_URL or MEM0_DB_HOST too, or remove the password",
        )),
    }
}

/// The URL with `MEM0_DB_PASSWORD` in it, if one is set.
fn with_password(resolved: &Resolved, url: PgUrl) -> Result<PgUrl, SettingsError> {
    let Some(password) = resolved.secret(SecretName::DbPassword) else {
        return Ok(url);
    };
    if url.has_password() {
        return Err(SettingsError::new(
            "MEM0_DB_PASSWORD is set, but the database URL already carries a password",
            "keep only one of them",
        ));
    }
    let user = resolved
        .get("MEM0_DB_USER")
        .map(str::to_owned)
        .unwrap_or_else(|| whoami::username().unwrap_or_else(|_| "postgres".into()));
    Ok(url.with_password(&password, &user))
}

/// The URL with the `MEM0_DB_SSL*` settings as its parameters, and TLS off on loopback unless
/// asked for.
fn with_tls(resolved: &Resolved, mut url: PgUrl) -> Result<PgUrl, SettingsError> {
    for variable in ["MEM0_DB_SSLCERT", "MEM0_DB_SSLKEY", "MEM0_DB_SSLROOTCERT"] {
        if let Some(path) = resolved.get(variable)
            && !Path::new(path).is_file()
        {
            return Err(SettingsError::new(
                format!("{variable} points at {path}, which is not a readable file"),
                "fix the path",
            ));
        }
    }
    for (variable, param) in [
        ("MEM0_DB_SSLMODE", "sslmode"),
        ("MEM0_DB_SSLCERT", "sslcert"),
        ("MEM0_DB_SSLKEY", "sslkey"),
        ("MEM0_DB_SSLROOTCERT", "sslrootcert"),
    ] {
        if let Some(value) = resolved.get(variable) {
            if url.has_param(param) {
                return Err(SettingsError::new(
                    format!("{variable} is set, but the database URL already has {param}=…"),
                    "keep only one of them",
                ));
            }
            url.push_param(param, value);
        }
    }
    if !url.has_param("sslmode") && url.is_loopback() {
        // TLS on the loopback interface protects nothing, and the handshake costs about 180 ms
        // per connection here; MEM0_DB_SSLMODE or sslmode= in the URL still asks for it.
        url.push_param("sslmode", "disable");
    }
    Ok(url)
}

/// `postgresql://user@host:port/name` from the `MEM0_DB_*` parts.
fn compose(resolved: &Resolved) -> Result<PgUrl, SettingsError> {
    let port = resolved.get("MEM0_DB_PORT");
    if let Some(port) = port
        && port.parse::<u16>().ok().filter(|p| *p > 0).is_none()
    {
        return Err(SettingsError::new(
            format!("MEM0_DB_PORT is '{port}'"),
            "use a port number such as 5432",
        ));
    }
    Ok(PgUrl::compose(Parts {
        host: resolved.get("MEM0_DB_HOST"),
        port,
        database: resolved.get("MEM0_DB_NAME"),
        user: resolved.get("MEM0_DB_USER"),
    }))
}

fn check_auth_method(resolved: &Resolved, url: &PgUrl) -> Result<(), SettingsError> {
    let method = resolved
        .get("MEM0_DATABASE_AUTH_METHOD")
        .unwrap_or("auto")
        .to_ascii_lowercase();
    let has_password = url.has_password();
    let has_cert = url.has_param("sslcert") && url.has_param("sslkey");
    match method.as_str() {
        "auto" => Ok(()),
        "peer" if has_password => Err(SettingsError::new(
            "security.database_auth_method is peer, but the connection carries a password (in MEM0_DATABASE_URL or MEM0_DB_PASSWORD)",
            "remove the password, or set database_auth_method to password",
        )),
        "peer" => Ok(()),
        "password" if !has_password => Err(SettingsError::new(
            "security.database_auth_method is password, but no password is given",
            "set MEM0_DB_PASSWORD (or MEM0_DB_PASSWORD_FILE, or the keychain), or set database_auth_method to peer",
        )),
        "password" => Ok(()),
        "cert" if !has_cert => Err(SettingsError::new(
            "security.database_auth_method is cert, but no client certificate is given",
            "set MEM0_DB_SSLCERT and MEM0_DB_SSLKEY (and MEM0_DB_SSLROOTCERT to verify the server)",
        )),
        "cert" => Ok(()),
        other => Err(SettingsError::new(
            format!("security.database_auth_method (MEM0_DATABASE_AUTH_METHOD) is '{other}'"),
            "use peer, password, cert or auto",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::pg_url::escape;
    use crate::settings::sources::Raw;

    fn resolved(pairs: &[(&'static str, &str)]) -> Resolved {
        let mut r = Resolved::default();
        for (k, v) in pairs {
            r.values.insert(k, (Raw::Plain(v.to_string()), Source::Env));
        }
        r
    }

    /// A file that exists, standing in for certificate files.
    const A_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

    fn url_of(pairs: &[(&'static str, &str)]) -> Result<String, String> {
        match target(&resolved(pairs), Path::new("/data")) {
            Ok(DatabaseTarget::Postgres(url)) => Ok(url.connection_string().expose().to_string()),
            Ok(DatabaseTarget::Sqlite(path)) => Ok(format!("sqlite:{}", path.display())),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn composition_cases() {
        let cases: &[(&[(&'static str, &str)], &str)] = &[
            (&[], "sqlite:/data/mem0.db"),
            (
                &[("MEM0_DATABASE_URL", "sqlite:///x/y.db")],
                "sqlite:/x/y.db",
            ),
            (&[("MEM0_STORAGE_TYPE", "sqlite")], "sqlite:/data/mem0.db"),
            (
                &[
                    ("MEM0_DB_HOST", "db.example"),
                    ("MEM0_DB_PORT", "6432"),
                    ("MEM0_DB_NAME", "mem0"),
                    ("MEM0_DB_USER", "me"),
                ],
                "postgresql://me@db.example:6432/mem0",
            ),
            (
                &[
                    ("MEM0_DB_HOST", "/var/run/postgresql"),
                    ("MEM0_DB_NAME", "mem0"),
                ],
                "postgresql:///mem0?host=%2Fvar%2Frun%2Fpostgresql",
            ),
            (
                &[
                    ("MEM0_DB_HOST", "h"),
                    ("MEM0_DB_USER", "u"),
                    ("MEM0_DB_PASSWORD", "p@:/?#%&+ x"),
                    ("MEM0_DB_NAME", "d"),
                ],
                "postgresql://u:p%40%3A%2F%3F%23%25%26%2B%20x@h/d",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u@h/d"),
                    ("MEM0_DB_PASSWORD", "pw"),
                ],
                "postgresql://u:pw@h/d",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u@h/d"),
                    ("MEM0_DB_SSLMODE", "verify-full"),
                    ("MEM0_DB_SSLROOTCERT", A_FILE),
                ],
                "postgresql://u@h/d?sslmode=verify-full&sslrootcert=<A_FILE>",
            ),
            (
                &[("MEM0_DB_HOST", "::1"), ("MEM0_DB_NAME", "d")],
                "postgresql://[::1]/d?sslmode=disable",
            ),
            (
                &[("MEM0_DATABASE_URL", "postgresql://u@127.0.0.1:5432/d")],
                "postgresql://u@127.0.0.1:5432/d?sslmode=disable",
            ),
            (
                &[("MEM0_DATABASE_URL", "postgresql://u@localhost/d?x=1")],
                "postgresql://u@localhost/d?x=1&sslmode=disable",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u@127.0.0.1/d"),
                    ("MEM0_DB_SSLMODE", "require"),
                ],
                "postgresql://u@127.0.0.1/d?sslmode=require",
            ),
        ];
        for (pairs, want) in cases {
            let want = want.replace("<A_FILE>", &escape(A_FILE));
            assert_eq!(url_of(pairs), Ok(want), "{pairs:?}");
        }
    }

    #[test]
    fn conflicts_and_mismatches_are_errors() {
        let cases: &[(&[(&'static str, &str)], &str)] = &[
            (&[("MEM0_DATABASE_URL", "mysql://x")], "'mysql'"),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://h/d"),
                    ("MEM0_DB_HOST", "h"),
                ],
                "both MEM0_DATABASE_URL and MEM0_DB_HOST",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u:x@h/d"),
                    ("MEM0_DB_PASSWORD", "y"),
                ],
                "already carries a password",
            ),
            (
                &[("MEM0_STORAGE_TYPE", "database")],
                "no PostgreSQL connection",
            ),
            (&[("MEM0_STORAGE_TYPE", "mongo")], "'mongo'"),
            (
                &[("MEM0_STORAGE_TYPE", "sqlite"), ("MEM0_DB_HOST", "h")],
                "storage.type is sqlite",
            ),
            (
                &[("MEM0_DB_PORT", "abc"), ("MEM0_DB_HOST", "h")],
                "MEM0_DB_PORT is 'abc'",
            ),
            (&[("MEM0_DB_PASSWORD", "pw")], "no database is"),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u:pw@h/d"),
                    ("MEM0_DATABASE_AUTH_METHOD", "peer"),
                ],
                "is peer, but the connection carries a password",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u@h/d"),
                    ("MEM0_DATABASE_AUTH_METHOD", "password"),
                ],
                "no password is given",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u@h/d"),
                    ("MEM0_DATABASE_AUTH_METHOD", "cert"),
                ],
                "no client certificate",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u@h/d?sslmode=require"),
                    ("MEM0_DB_SSLMODE", "disable"),
                ],
                "already has sslmode",
            ),
            (
                &[
                    ("MEM0_DATABASE_URL", "postgresql://u@h/d"),
                    ("MEM0_DB_SSLCERT", "/no/such.crt"),
                ],
                "MEM0_DB_SSLCERT points at /no/such.crt",
            ),
        ];
        for (pairs, want) in cases {
            let err = url_of(pairs).unwrap_err();
            assert!(err.contains(want), "{pairs:?}: {err}");
        }
        assert!(
            url_of(&[
                ("MEM0_DATABASE_URL", "postgresql://u@h/d"),
                ("MEM0_DB_SSLCERT", A_FILE),
                ("MEM0_DB_SSLKEY", A_FILE),
                ("MEM0_DATABASE_AUTH_METHOD", "cert"),
            ])
            .is_ok()
        );
    }
}
