//! Where the test suites reach the real PostgreSQL server as an administrator, to create and
//! drop their throw-away databases. Included by each suite's support module.

pub const DEFAULT_ADMIN_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

/// `MEM0_TEST_ADMIN_URL`, else the local server's `postgres` superuser over TCP.
pub fn admin_url() -> String {
    std::env::var("MEM0_TEST_ADMIN_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_string())
}

/// `admin` with its database name replaced by `database` (query string kept).
pub fn database_url(admin: &str, database: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| authority_start + i)
        .unwrap_or(base.len());
    let mut url = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}
