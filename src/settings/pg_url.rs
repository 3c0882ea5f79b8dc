//! A PostgreSQL connection URL, taken apart once: the URL without its password (safe to show,
//! to write into a client configuration or `mem0.config.json`) and the password as a
//! [`Secret`]. Readers ask the value: does it carry a password, who is its user, is its host
//! this machine, which query parameters it sets, how to describe it to a person. Only the
//! driver gets the whole connection string, from [`PgUrl::connection_string`].
//!
//! A password counts wherever libpq reads one: after the user name (`user:pw@host`, an empty
//! one being no password) or as a `password=` query parameter. The rest of the URL is kept as
//! written, so what the user typed is what the driver sees.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::Secret;

/// Everything but RFC 3986's unreserved characters gets escaped.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A `postgresql://` or `postgres://` URL, with its password held apart.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// The URL the driver gets, password included.
    full: Secret,
    /// The same URL without its password.
    shown: String,
    password: Option<Secret>,
}

/// A URL whose scheme is not PostgreSQL's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPostgres {
    /// The scheme found, or `(none)`.
    pub scheme: String,
    /// The URL as [`PgUrl::describe`] would show it (never its password).
    pub described: String,
}

/// The pieces of a URL composed from `MEM0_DB_HOST` / `PORT` / `NAME` / `USER`, unescaped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    /// A host name or address; one starting with `/` is a socket directory.
    pub host: Option<&'a str>,
    /// Checked by the caller: a number from 1 to 65535.
    pub port: Option<&'a str>,
    /// The database name.
    pub database: Option<&'a str>,
    /// The user name; without one libpq takes the OS user's.
    pub user: Option<&'a str>,
}

impl PgUrl {
    /// Takes a URL apart.
    ///
    /// # Errors
    ///
    /// [`NotPostgres`] when the text does not start with `postgresql://` or `postgres://`.
    pub fn parse(text: &str) -> Result<PgUrl, NotPostgres> {
        if !(text.starts_with("postgresql://") || text.starts_with("postgres://")) {
            let scheme = text
                .split("://")
                .next()
                .filter(|s| s.len() < text.len())
                .unwrap_or("(none)");
            return Err(NotPostgres {
                scheme: scheme.to_owned(),
                described: describe(&split_password(text).0),
            });
        }
        let (shown, password) = split_password(text);
        Ok(PgUrl {
            full: Secret::new(text),
            shown,
            password: password.map(Secret::new),
        })
    }

    /// `postgresql://user@host:port/database`; a host starting with `/` is a socket directory
    /// (then the port names the socket file, as in libpq).
    pub fn compose(parts: Parts<'_>) -> PgUrl {
        let mut url = String::from("postgresql://");
        if let Some(user) = parts.user {
            url.push_str(&escape(user));
            url.push('@');
        }
        let socket_dir = parts.host.filter(|h| h.starts_with('/'));
        if let Some(host) = parts.host.filter(|h| !h.starts_with('/')) {
            if host.contains(':') && !host.starts_with('[') {
                url.push_str(&format!("[{host}]"));
            } else {
                url.push_str(host);
            }
        }
        if let Some(port) = parts.port {
            if socket_dir.is_some() || parts.host.is_none() {
                url.push_str("localhost");
            }
            url.push(':');
            url.push_str(port);
        }
        url.push('/');
        if let Some(name) = parts.database {
            url.push_str(&escape(name));
        }
        let mut composed = PgUrl {
            full: Secret::new(url.clone()),
            shown: url,
            password: None,
        };
        if let Some(dir) = socket_dir {
            composed.push_param("host", dir);
        }
        composed
    }

    /// The URL without its password: safe to print, log or write into a file.
    pub fn without_password(&self) -> &str {
        &self.shown
    }

    /// The password, unescaped, wherever the URL carried it.
    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    /// Whether the URL carries a non-empty password.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The whole URL, password included: for the database driver only.
    pub fn connection_string(&self) -> &Secret {
        &self.full
    }

    /// The user name in the URL (unescaped), if it names one.
    pub fn user(&self) -> Option<String> {
        let (_, rest) = self.shown.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        let (user, _) = authority.rsplit_once('@')?;
        (!user.is_empty()).then(|| unescape(user))
    }

    /// The same URL with `password`, after the user name; a URL without a user name gets
    /// `default_user` (libpq would otherwise take the password for a user name).
    pub fn with_password(&self, password: &Secret, default_user: &str) -> PgUrl {
        let (scheme, rest) = self
            .shown
            .split_once("://")
            .unwrap_or(("postgresql", &self.shown));
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (userinfo.to_owned(), host),
            None => (escape(default_user), authority),
        };
        PgUrl {
            full: Secret::new(format!(
                "{scheme}://{userinfo}:{}@{host}{tail}",
                escape(password.expose())
            )),
            shown: self.shown.clone(),
            password: Some(password.clone()),
        }
    }

    /// Whether the query sets the parameter `name` (the password is not asked about here).
    pub fn has_param(&self, name: &str) -> bool {
        self.shown
            .split_once('?')
            .is_some_and(|(_, q)| q.split('&').any(|p| p.split('=').next() == Some(name)))
    }

    /// Adds `name=value` (escaped) to the query.
    pub fn push_param(&mut self, name: &str, value: &str) {
        let mut full = self.full.expose().to_owned();
        append_param(&mut full, name, value);
        self.full = Secret::new(full);
        append_param(&mut self.shown, name, value);
    }

    /// True when the host is this machine's loopback interface (`localhost`, `127.*`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let Some((_, rest)) = self.shown.split_once("://") else {
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

    /// The URL as shown to people: `user@host:port/database` or `socket DIR/database`, never
    /// the password or the other query parameters.
    pub fn describe(&self) -> String {
        describe(&self.shown)
    }
}

/// Only what a person may see: `Debug` never prints the password.
impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgUrl")
            .field("at", &self.describe())
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// True when a URL of any scheme carries a password: for text not yet known to be a
/// PostgreSQL URL, such as a database URL from a config file or a command-line flag.
pub fn has_password(url: &str) -> bool {
    split_password(url).1.is_some()
}

/// Percent-escapes everything but RFC 3986 unreserved characters.
pub(super) fn escape(value: &str) -> String {
    utf8_percent_encode(value, ESCAPED).to_string()
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
fn unescape(value: &str) -> String {
    percent_decode_str(value).decode_utf8_lossy().into_owned()
}

fn append_param(url: &mut String, name: &str, value: &str) {
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(name);
    url.push('=');
    url.push_str(&escape(value));
}

/// Splits a URL into the URL without its password and the (decoded) password, whether the
/// password is in the user info or a `password=` parameter.
fn split_password(url: &str) -> (String, Option<String>) {
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
                    password = Some(unescape(pw));
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
                            password = Some(unescape(pw));
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

/// [`PgUrl::describe`] of a URL already without its password.
fn describe(safe: &str) -> String {
    let rest = safe.split_once("://").map_or(safe, |(_, r)| r);
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let socket = query
        .split('&')
        .find_map(|p| p.strip_prefix("host="))
        .map(unescape);
    let (authority, database) = main.split_once('/').unwrap_or((main, ""));
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(unescape(user)), host.to_owned()),
        None => (None, authority.to_owned()),
    };
    let host = match (socket, host.is_empty()) {
        (Some(dir), _) => format!("socket {dir}"),
        (None, true) => "localhost".into(),
        (None, false) => host,
    };
    let database = unescape(database.split('#').next().unwrap_or_default());
    match user {
        Some(user) => format!("{user}@{host}/{database}"),
        None => format!("{host}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> PgUrl {
        PgUrl::parse(url).unwrap()
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
            let url = parsed(url);
            assert_eq!(url.without_password(), safe, "{url:?}");
            assert_eq!(url.password().map(Secret::expose), password, "{url:?}");
            assert!(!has_password(url.without_password()));
        }
        let full = parsed("postgresql://u@h/d").with_password(&Secret::new("a b@c"), "u");
        let back = parsed(full.connection_string().expose());
        assert_eq!(back.password().map(Secret::expose), Some("a b@c"));
        assert_eq!(back.without_password(), "postgresql://u@h/d");
    }

    #[test]
    fn urls_are_described_without_secrets() {
        assert_eq!(
            parsed("postgresql://me:pw@db:5432/mem0").describe(),
            "me@db:5432/mem0"
        );
        assert_eq!(
            parsed("postgresql:///mem0?host=%2Fvar%2Frun%2Fpostgresql").describe(),
            "socket /var/run/postgresql/mem0"
        );
        assert_eq!(parsed("postgresql://h/d?password=x").describe(), "h/d");
        let debug = format!("{:?}", parsed("postgresql://me:hunter2@db/mem0"));
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn password_detection() {
        assert!(has_password("postgresql://u:p@h/d"));
        assert!(has_password("postgresql://h/d?password=x"));
        assert!(!has_password("postgresql://u@h/d"));
        assert!(!has_password("postgresql:///d?host=/tmp"));
        assert!(!has_password("postgresql://u:@h/d"));
    }

    #[test]
    fn passwords_in_urls_are_spotted() {
        for (url, has) in [
            ("postgresql://u:pw@host/db", true),
            ("postgresql://u@host/db?password=x", true),
            ("postgresql://u@host/db", false),
            ("postgresql:///db?host=/var/run/postgresql", false),
            ("postgresql://host:5432/db", false),
        ] {
            assert_eq!(parsed(url).has_password(), has, "{url}");
        }
    }

    #[test]
    fn users_hosts_and_parameters_are_asked_of_the_value() {
        assert_eq!(
            parsed("postgresql://a%40b:pw@h/d").user().as_deref(),
            Some("a@b")
        );
        assert_eq!(parsed("postgresql://h/d").user(), None);
        assert!(parsed("postgresql://u@127.0.0.1:5432/d").is_loopback());
        assert!(parsed("postgresql://[::1]/d").is_loopback());
        assert!(!parsed("postgresql://db.example/d").is_loopback());
        let mut url = parsed("postgresql://u:pw@h/d?password=x&sslmode=require");
        assert!(url.has_param("sslmode"));
        assert!(!url.has_param("sslcert"));
        url.push_param("sslcert", "/a b");
        assert_eq!(
            url.without_password(),
            "postgresql://u@h/d?sslmode=require&sslcert=%2Fa%20b"
        );
        assert!(
            url.connection_string()
                .expose()
                .ends_with("&sslcert=%2Fa%20b")
        );
        let other = PgUrl::parse("mysql://u:pw@h/d").unwrap_err();
        assert_eq!(other.scheme, "mysql");
        assert_eq!(other.described, "u@h/d");
        assert_eq!(PgUrl::parse("h/d").unwrap_err().scheme, "(none)");
    }
}
