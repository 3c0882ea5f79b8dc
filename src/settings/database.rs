//! Which database to use and how to reach it: `MEM0_DATABASE_URL`, or a PostgreSQL URL composed
//! from `MEM0_DB_HOST` / `PORT` / `NAME` / `USER` / `PASSWORD`, plus the TLS and client
//! certificate settings; the embedded SQLite file when nothing is configured. The result is
//! checked against `security.database_auth_method`.

use std::path::Path;

use super::keys::SecretName;
use super::sources::{Resolved, Source};
use super::{DatabaseTarget, SQLITE_FILE, Secret, SettingsError};

/// True when a URL carries a password, in its user info or as a `password=` parameter.
pub fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let in_userinfo = authority.rsplit_once('@').is_some_and(|(userinfo, _)| {
        userinfo
            .split_once(':')
            .is_some_and(|(_, pw)| !pw.is_empty())
    });
    let in_query = rest.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|p| p.starts_with("password=") && p.len() > 9)
    });
    in_userinfo || in_query
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn query_has(url: &str, name: &str) -> bool {
    url.split_once('?')
        .is_some_and(|(_, q)| q.split('&').any(|p| p.split('=').next() == Some(name)))
}

fn append_param(url: &mut String, name: &str, value: &str) {
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(name);
    url.push('=');
    url.push_str(&percent_encode(value));
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
pub fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a URL into the URL without its password and the (decoded) password, whether the
/// password is in the user info or a `password=` parameter.
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut password = None;
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, pw)) => {
                if !pw.is_empty() {
                    password = Some(percent_decode(pw));
                }
                format!("{user}@{host}")
            }
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let mut kept = Vec::new();
            for pair in query.split('&') {
                match pair.strip_prefix("password=") {
                    Some(pw) => {
                        if !pw.is_empty() && password.is_none() {
                            password = Some(percent_decode(pw));
                        }
                    }
                    None => kept.push(pair),
                }
            }
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_owned(),
    };
    (format!("{scheme}://{authority}{tail}"), password)
}

/// A PostgreSQL URL as shown to people: `user@host:port/database`, never the password.
pub fn describe_url(url: &str) -> String {
    let (safe, _) = split_password(url);
    let rest = safe.split_once("://").map_or(safe.as_str(), |(_, r)| r);
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let socket = query
        .split('&')
        .find_map(|p| p.strip_prefix("host="))
        .map(percent_decode);
    let (authority, database) = main.split_once('/').unwrap_or((main, ""));
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(percent_decode(user)), host.to_owned()),
        None => (None, authority.to_owned()),
    };
    let host = match (socket, host.is_empty()) {
        (Some(dir), _) => format!("socket {dir}"),
        (None, true) => "localhost".into(),
        (None, false) => host,
    };
    let database = percent_decode(database.split('#').next().unwrap_or_default());
    match user {
        Some(user) => format!("{user}@{host}/{database}"),
        None => format!("{host}/{database}"),
    }
}

/// Puts a password into a URL that has none (after the user name, or with `user` if it has
/// none).
pub fn with_password(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgresql", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (userinfo.to_string(), host),
        None => (percent_encode(user), authority),
    };
    format!(
        "{scheme}://{userinfo}:{}@{host}{tail}",
        percent_encode(password)
    )
}

pub fn target(resolved: &Resolved, data_dir: &Path) -> Result<DatabaseTarget, SettingsError> {
    let storage_type = resolved
        .get("MEM0_STORAGE_TYPE")
        .map(|t| t.to_ascii_lowercase());
    let wants_sqlite = match storage_type.as_deref() {
        None => None,
        Some("sqlite") => Some(true),
        Some("database" | "postgres" | "postgresql") => Some(false),
        Some(other) => {
            return Err(SettingsError(format!(
                "storage.type (MEM0_STORAGE_TYPE) is '{other}': use database (PostgreSQL) or sqlite"
            )));
        }
    };
    let url = resolved.secret(SecretName::DatabaseUrl);
    let password = resolved.secret(SecretName::DbPassword);
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
        if wants_sqlite == Some(false) {
            return Err(SettingsError(
                "MEM0_DATABASE_URL is a sqlite:// URL but storage.type is database: make them agree".into(),
            ));
        }
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(SettingsError(
                "MEM0_DATABASE_URL is sqlite:// without a file path: use sqlite:///absolute/path/mem0.db".into(),
            ));
        }
        return Ok(DatabaseTarget::Sqlite(
            std::path::absolute(path).unwrap_or_else(|_| path.into()),
        ));
    }
    if wants_sqlite == Some(true) {
        if url.is_some() || !parts.is_empty() {
            return Err(SettingsError(
                "storage.type is sqlite but a PostgreSQL connection is configured too (MEM0_DATABASE_URL or MEM0_DB_*): remove one of them".into(),
            ));
        }
        return Ok(DatabaseTarget::Sqlite(data_dir.join(SQLITE_FILE)));
    }

    let mut composed = match (&url, parts.is_empty()) {
        (Some(url), _) => {
            let text = url.expose();
            if !(text.starts_with("postgresql://") || text.starts_with("postgres://")) {
                let scheme = text
                    .split("://")
                    .next()
                    .filter(|s| s.len() < text.len())
                    .unwrap_or("(none)");
                return Err(SettingsError(format!(
                    "MEM0_DATABASE_URL has the scheme '{scheme}', which is not supported: use postgresql://user@host:5432/database or sqlite:///path/to/mem0.db"
                )));
            }
            if !parts.is_empty() {
                return Err(SettingsError(format!(
                    "both MEM0_DATABASE_URL and {} are set: give the connection one way, either the URL or the MEM0_DB_* parts",
                    parts.join(", ")
                )));
            }
            text.to_string()
        }
        (None, false) => compose(resolved)?,
        (None, true) => {
            if wants_sqlite == Some(false) {
                return Err(SettingsError(
                    "storage.type is database but no PostgreSQL connection is configured: set MEM0_DATABASE_URL, storage.database_url or MEM0_DB_HOST/MEM0_DB_NAME/MEM0_DB_USER".into(),
                ));
            }
            match resolved.source(SecretName::DbPassword.env()) {
                // A password left in the keychain must not break the embedded database.
                None | Some(Source::Keychain) => {}
                Some(source) => {
                    return Err(SettingsError(format!(
                        "MEM0_DB_PASSWORD is set (from {}) but no database is: set MEM0_DATABASE_URL or MEM0_DB_HOST too, or remove the password",
                        source.as_str()
                    )));
                }
            }
            return Ok(DatabaseTarget::Sqlite(data_dir.join(SQLITE_FILE)));
        }
    };

    if let Some(password) = &password {
        if url_has_password(&composed) {
            return Err(SettingsError(
                "MEM0_DB_PASSWORD is set, but the database URL already carries a password: keep only one of them".into(),
            ));
        }
        let user = resolved
            .get("MEM0_DB_USER")
            .map(str::to_owned)
            .unwrap_or_else(|| whoami::username().unwrap_or_else(|_| "postgres".into()));
        composed = with_password(&composed, &user, password.expose());
    }
    for variable in ["MEM0_DB_SSLCERT", "MEM0_DB_SSLKEY", "MEM0_DB_SSLROOTCERT"] {
        if let Some(path) = resolved.get(variable)
            && !Path::new(path).is_file()
        {
            return Err(SettingsError(format!(
                "{variable} points at {path}, which is not a readable file: fix the path"
            )));
        }
    }
    for (variable, param) in [
        ("MEM0_DB_SSLMODE", "sslmode"),
        ("MEM0_DB_SSLCERT", "sslcert"),
        ("MEM0_DB_SSLKEY", "sslkey"),
        ("MEM0_DB_SSLROOTCERT", "sslrootcert"),
    ] {
        if let Some(value) = resolved.get(variable) {
            if query_has(&composed, param) {
                return Err(SettingsError(format!(
                    "{variable} is set, but the database URL already has {param}=…: keep only one of them"
                )));
            }
            append_param(&mut composed, param, value);
        }
    }
    if !query_has(&composed, "sslmode") && is_loopback(&composed) {
        // TLS on the loopback interface protects nothing, and the handshake costs about 180 ms
        // per connection here; MEM0_DB_SSLMODE or sslmode= in the URL still asks for it.
        append_param(&mut composed, "sslmode", "disable");
    }
    check_auth_method(resolved, &composed)?;
    Ok(DatabaseTarget::Postgres(Secret::new(composed)))
}

/// True when the URL's host is this machine's loopback interface.
fn is_loopback(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    matches!(host, "localhost" | "::1") || host.starts_with("127.")
}

/// `postgresql://user:password@host:port/name`; a host starting with `/` is a socket directory.
fn compose(resolved: &Resolved) -> Result<String, SettingsError> {
    let host = resolved.get("MEM0_DB_HOST");
    let port = resolved.get("MEM0_DB_PORT");
    if let Some(port) = port
        && port.parse::<u16>().ok().filter(|p| *p > 0).is_none()
    {
        return Err(SettingsError(format!(
            "MEM0_DB_PORT is '{port}': use a port number such as 5432"
        )));
    }
    let mut url = String::from("postgresql://");
    if let Some(user) = resolved.get("MEM0_DB_USER") {
        url.push_str(&percent_encode(user));
        url.push('@');
    }
    let socket_dir = host.filter(|h| h.starts_with('/'));
    if let Some(host) = host.filter(|h| !h.starts_with('/')) {
        if host.contains(':') && !host.starts_with('[') {
            url.push_str(&format!("[{host}]"));
        } else {
            url.push_str(host);
        }
    }
    if let Some(port) = port {
        if socket_dir.is_some() || host.is_none() {
            // libpq-style: with a socket, the port names the socket file.
            url.push_str("localhost");
        }
        url.push(':');
        url.push_str(port);
    }
    url.push('/');
    if let Some(name) = resolved.get("MEM0_DB_NAME") {
        url.push_str(&percent_encode(name));
    }
    if let Some(dir) = socket_dir {
        append_param(&mut url, "host", dir);
    }
    Ok(url)
}

fn check_auth_method(resolved: &Resolved, url: &str) -> Result<(), SettingsError> {
    let method = resolved
        .get("MEM0_DATABASE_AUTH_METHOD")
        .unwrap_or("auto")
        .to_ascii_lowercase();
    let has_password = url_has_password(url);
    let has_cert = query_has(url, "sslcert") && query_has(url, "sslkey");
    match method.as_str() {
        "auto" => Ok(()),
        "peer" if has_password => Err(SettingsError(
            "security.database_auth_method is peer, but the connection carries a password (in MEM0_DATABASE_URL or MEM0_DB_PASSWORD): remove the password, or set database_auth_method to password".into(),
        )),
        "peer" => Ok(()),
        "password" if !has_password => Err(SettingsError(
            "security.database_auth_method is password, but no password is given: set MEM0_DB_PASSWORD (or MEM0_DB_PASSWORD_FILE, or the keychain), or set database_auth_method to peer".into(),
        )),
        "password" => Ok(()),
        "cert" if !has_cert => Err(SettingsError(
            "security.database_auth_method is cert, but no client certificate is given: set MEM0_DB_SSLCERT and MEM0_DB_SSLKEY (and MEM0_DB_SSLROOTCERT to verify the server)".into(),
        )),
        "cert" => Ok(()),
        other => Err(SettingsError(format!(
            "security.database_auth_method (MEM0_DATABASE_AUTH_METHOD) is '{other}': use peer, password, cert or auto"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::sources::{Raw, Source};

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
            Ok(DatabaseTarget::Postgres(url)) => Ok(url.expose().to_string()),
            Ok(DatabaseTarget::Sqlite(path)) => Ok(format!("sqlite:{}", path.display())),
            Err(e) => Err(e.0),
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
            let want = want.replace("<A_FILE>", &percent_encode(A_FILE));
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

    #[test]
    fn passwords_split_off_and_back() {
        for (url, safe, password) in [
            (
                "postgresql://u:p%40ss@h:5432/d",
                "postgresql://u@h:5432/d",
                Some("p@ss"),
            ),
            (
                "postgresql://u@h/d?password=x&sslmode=require",
                "postgresql://u@h/d?sslmode=require",
                Some("x"),
            ),
            (
                "postgresql://u@h/d?password=x",
                "postgresql://u@h/d",
                Some("x"),
            ),
            (
                "postgresql:///d?host=/tmp",
                "postgresql:///d?host=/tmp",
                None,
            ),
            ("postgresql://u:@h/d", "postgresql://u@h/d", None),
        ] {
            let (got, pw) = split_password(url);
            assert_eq!(got, safe, "{url}");
            assert_eq!(pw.as_deref(), password, "{url}");
            assert!(!url_has_password(&got));
        }
        let full = with_password("postgresql://u@h/d", "u", "a b@c");
        assert_eq!(split_password(&full).1.as_deref(), Some("a b@c"));
    }

    #[test]
    fn urls_are_described_without_secrets() {
        assert_eq!(
            describe_url("postgresql://me:pw@db:5432/mem0"),
            "me@db:5432/mem0"
        );
        assert_eq!(
            describe_url("postgresql:///mem0?host=%2Fvar%2Frun%2Fpostgresql"),
            "socket /var/run/postgresql/mem0"
        );
        assert_eq!(describe_url("postgresql://h/d?password=x"), "h/d");
    }

    #[test]
    fn password_detection() {
        assert!(url_has_password("postgresql://u:p@h/d"));
        assert!(url_has_password("postgresql://h/d?password=x"));
        assert!(!url_has_password("postgresql://u@h/d"));
        assert!(!url_has_password("postgresql:///d?host=/tmp"));
        assert!(!url_has_password("postgresql://u:@h/d"));
    }
}
