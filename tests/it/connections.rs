//! Every way of connecting to PostgreSQL that the settings offer, against a real server: a
//! throw-away PostgreSQL cluster this test binary starts itself (as the `postgres` OS user, on a
//! free port, TLS on, certificates generated with openssl; see `support/cluster.rs`), and
//! Debian's PgBouncer in front of it.
//!
//! For each form the real binary runs `mem0-mcp migrate`, `mem0-mcp migrate --status` and
//! `mem0-mcp serve` with an MCP client that adds a memory and finds it again, and
//! `config show --json` reports the connection secrets as `***` with the right source.
//!
//! Forms: peer authentication over the unix socket (URL, and `MEM0_DB_*` parts), TCP trust,
//! scram password (parts, `MEM0_DB_PASSWORD_FILE`, percent-encoded URL, `MEM0_DATABASE_URL_FILE`),
//! client-certificate authentication with `verify-full`, and PgBouncer in session and
//! transaction pooling. Failures (wrong password, missing or unusable client certificate,
//! PgBouncer settings) must exit 4, configuration mistakes 2, each with one clear line on
//! stderr that never shows the password.
//!
//! The tests marked "BUG (reported)" describe a fault as it was found, and what is expected.
//!
//! Needs root (to run PostgreSQL as `postgres`), PostgreSQL's server binaries, openssl and
//! pgbouncer: `.ci/install-test-deps.sh` installs what is missing. A missing one fails the
//! tests, it never skips them.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::binary::{LIMIT, assert_setting, run};
use crate::support::cluster::{
    self, Bouncer, CERT_USER, Cluster, PASSWORD, PASSWORD_USER, PEER_USER, PoolMode, TRUST_USER,
};
use crate::support::secrets::{assert_no_secret, percent_encode};
use crate::support::{Finished, McpClient, Sandbox};

const USER_ID: &str = "connections-tester";

/// Owned `(name, value)` pairs, lent out as the `&[(&str, &str)]` the helpers take.
#[derive(Debug, Clone, Default)]
struct Env(Vec<(String, String)>);

impl Env {
    fn new(pairs: &[(&str, &str)]) -> Self {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Sets (or replaces) one variable.
    fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_string(), value.into()));
        self
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// `args` followed by the global flags in `flags` (e.g. `--config PATH`).
fn with_flags<'a>(args: &[&'a str], flags: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(flags).copied().collect()
}

/// The assertion every failed start must pass: the documented exit code, and one line on
/// stderr, starting `mem0-mcp:`, that contains `needle` and none of `secrets`.
fn assert_clear_failure(out: &Finished, code: i32, needle: &str, secrets: &[&str]) {
    out.assert_code(code);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one line on stderr:\n{}",
        out.describe()
    );
    assert!(
        lines[0].starts_with("mem0-mcp: "),
        "the line should start with `mem0-mcp: `:\n{}",
        out.describe()
    );
    assert!(
        lines[0].to_lowercase().contains(&needle.to_lowercase()),
        "the message should mention {needle:?}:\n{}",
        out.describe()
    );
    assert_no_secret(&out.all_output(), secrets, &out.what);
}

/// What a finished session left behind.
#[derive(Debug)]
struct Session {
    /// Everything the server wrote to stderr.
    stderr: String,
    /// `memory_status`'s structured result.
    status: Value,
}

/// Runs `mem0-mcp serve` as `cmd` describes (environment, working directory) and proves the
/// connection works end to end: a memory added is found by a search in the same scope, and
/// `memory_status` answers. `label` names the connection form in failure messages.
async fn round_trip(sandbox: &Sandbox, cmd: Command, label: &str) -> Session {
    let client = McpClient::start(cmd, sandbox.log_path("serve")).await;
    let word = format!("zq{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let content = format!("Connection form {label} reaches the database; marker {word}.");
    let added = client
        .ok(
            "add_memory",
            json!({ "content": content, "tags": ["connections"] }),
        )
        .await;
    let id = added
        .pointer("/memory/id")
        .cloned()
        .unwrap_or_else(|| panic!("[{label}] add_memory returned no memory.id: {added:#}"));
    assert_eq!(
        added.pointer("/memory/content").and_then(Value::as_str),
        Some(content.as_str()),
        "[{label}] add_memory: {added:#}"
    );
    let found = client.ok("search_memories", json!({ "query": word })).await;
    let results = found
        .get("results")
        .and_then(Value::as_array)
        .unwrap_or_else(|| {
            panic!("[{label}] search_memories returned no results array: {found:#}")
        });
    assert!(
        results.iter().any(|r| r.get("id") == Some(&id)),
        "[{label}] search_memories for {word} did not find the memory just added: {found:#}"
    );
    let status = client.ok("memory_status", json!({})).await;
    let stderr = client.stderr_path().to_path_buf();
    client.shutdown().await;
    Session {
        stderr: std::fs::read_to_string(stderr).unwrap_or_default(),
        status,
    }
}

/// Proves one connection form end to end: `migrate` applies (or finds applied) the schema,
/// `migrate --status` is clean, and `serve` stores a memory and finds it again. No output of
/// any of them may contain one of `secrets`.
async fn prove_form(
    sandbox: &Sandbox,
    label: &str,
    env: &Env,
    flags: &[&str],
    secrets: &[&str],
) -> Session {
    let pairs = env.pairs();
    let migrated = sandbox.run(&with_flags(&["migrate"], flags), &pairs);
    migrated.ok();
    assert!(
        migrated.stdout.contains("Schema is up to date"),
        "[{label}] migrate:\n{}",
        migrated.describe()
    );
    assert_no_secret(&migrated.all_output(), secrets, &migrated.what);
    let status = sandbox.run(&with_flags(&["migrate", "--status"], flags), &pairs);
    status.ok();
    assert!(
        status.stdout.contains("applied") && !status.stdout.contains("pending"),
        "[{label}] migrate --status:\n{}",
        status.describe()
    );
    assert_no_secret(&status.all_output(), secrets, &status.what);

    let mut serve_env = env
        .clone()
        .with("MEM0_USER_ID", USER_ID)
        .with("PROJECT_ID_MODE", "manual")
        .with("PROJECT_ID", "connections");
    let token = sandbox
        .run(
            &["token", "create", "--user-id", USER_ID, "--name", "tests"],
            &serve_env.pairs(),
        )
        .created_token();
    serve_env = serve_env.with("MEM0_TOKEN", token);
    let cmd = sandbox.command(&with_flags(&["serve"], flags), &serve_env.pairs());
    let session = round_trip(sandbox, cmd, label).await;
    assert_eq!(
        session.status.get("backend").and_then(Value::as_str),
        Some("postgres"),
        "[{label}] memory_status: {:#}",
        session.status
    );
    assert_no_secret(&session.stderr, secrets, &format!("[{label}] serve"));
    session
}

fn config_file(sandbox: &Sandbox, auth_method: &str) -> String {
    sandbox
        .write_file(
            &format!("mem0.{auth_method}.config.json"),
            &json!({ "security": { "database_auth_method": auth_method } }).to_string(),
            0o644,
        )
        .display()
        .to_string()
}

fn tcp_url(user: &str, port: u16, db: &str) -> String {
    format!("postgresql://{user}@127.0.0.1:{port}/{db}")
}

// ---------------------------------------------------------------------------------------------
// Peer authentication over the unix socket
// ---------------------------------------------------------------------------------------------

/// `postgresql:///db?host=<socket dir>&port=<port>` (and the port in the authority instead),
/// as OS user root → role root, with `security.database_auth_method: "peer"` from a config
/// file given with `--config`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_auth_over_the_socket_with_a_url() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PEER_USER);
    let sandbox = Sandbox::new();
    let config = config_file(&sandbox, "peer");
    let sock = cluster.socket_dir.display().to_string();
    let forms = [
        (
            "socket URL, port as a parameter",
            format!("postgresql:///{db}?host={sock}&port={}", cluster.port),
        ),
        (
            "socket URL, port in the authority",
            format!("postgresql://localhost:{}/{db}?host={sock}", cluster.port),
        ),
    ];
    for (label, url) in &forms {
        let env = Env::new(&[("MEM0_DATABASE_URL", url)]);
        prove_form(&sandbox, label, &env, &["--config", &config], &[]).await;
        let shown = sandbox.config_json(&["--config", &config], &env.pairs());
        assert_setting(&shown, "MEM0_DATABASE_URL", json!("***"), "env");
        assert_setting(&shown, "MEM0_DATABASE_AUTH_METHOD", json!("peer"), "config");
    }
    cluster.assert_authenticated_by(&db, "peer");

    // Peer with a password in the URL is a configuration error that never shows the password.
    let with_password = format!(
        "postgresql://{PEER_USER}:{}@localhost:{}/{db}?host={sock}",
        percent_encode(PASSWORD),
        cluster.port
    );
    let out = sandbox.run(
        &["migrate", "--config", &config],
        &[("MEM0_DATABASE_URL", &with_password)],
    );
    assert_clear_failure(&out, 2, "peer", &[PASSWORD]);
}

/// The same through `MEM0_DB_HOST=<socket dir>`, `MEM0_DB_PORT`, `MEM0_DB_NAME` (no user: the
/// OS user name, root).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_auth_over_the_socket_with_db_parts() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PEER_USER);
    let sandbox = Sandbox::new();
    let config = config_file(&sandbox, "peer");
    let sock = cluster.socket_dir.display().to_string();
    let port = cluster.port.to_string();
    let env = Env::new(&[
        ("MEM0_DB_HOST", &sock),
        ("MEM0_DB_PORT", &port),
        ("MEM0_DB_NAME", &db),
    ]);
    prove_form(&sandbox, "socket parts", &env, &["--config", &config], &[]).await;
    let shown = sandbox.config_json(&["--config", &config], &env.pairs());
    assert_setting(&shown, "MEM0_DB_HOST", json!(sock), "env");
    assert_setting(&shown, "MEM0_DB_PORT", json!(cluster.port), "env");
    assert_setting(&shown, "MEM0_DB_NAME", json!(db), "env");
    assert_setting(&shown, "MEM0_DATABASE_AUTH_METHOD", json!("peer"), "config");
    cluster.assert_authenticated_by(&db, "peer");
}

// ---------------------------------------------------------------------------------------------
// TCP trust
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_trust() {
    let cluster = cluster::shared();
    let db = cluster.create_database(TRUST_USER);
    let sandbox = Sandbox::new();
    let url = tcp_url(TRUST_USER, cluster.port, &db);
    let env = Env::new(&[("MEM0_DATABASE_URL", &url)]);
    prove_form(&sandbox, "tcp trust", &env, &[], &[]).await;
    let shown = sandbox.config_json(&[], &env.pairs());
    assert_setting(&shown, "MEM0_DATABASE_URL", json!("***"), "env");
    assert_setting(&shown, "MEM0_DB_PASSWORD", Value::Null, "default");
    // sslmode defaults to prefer: TCP connections use TLS when the server offers it.
    cluster.assert_authenticated_by(&db, "trust");
}

// ---------------------------------------------------------------------------------------------
// Password (scram-sha-256), with a password full of URL delimiters
// ---------------------------------------------------------------------------------------------

fn password_parts(cluster: &Cluster, db: &str) -> Env {
    Env::new(&[
        ("MEM0_DB_USER", PASSWORD_USER),
        ("MEM0_DB_HOST", "127.0.0.1"),
        ("MEM0_DB_PORT", &cluster.port.to_string()),
        ("MEM0_DB_NAME", db),
    ])
}

/// `MEM0_DB_USER` / `MEM0_DB_PASSWORD` / `MEM0_DB_HOST` / `MEM0_DB_PORT` / `MEM0_DB_NAME`, with
/// `security.database_auth_method: "password"`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_auth_from_db_parts() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let config = config_file(&sandbox, "password");
    let env = password_parts(cluster, &db).with("MEM0_DB_PASSWORD", PASSWORD);
    prove_form(
        &sandbox,
        "password parts",
        &env,
        &["--config", &config],
        &[PASSWORD],
    )
    .await;
    let shown = sandbox.config_json(&["--config", &config], &env.pairs());
    assert_setting(&shown, "MEM0_DB_PASSWORD", json!("***"), "env");
    assert_setting(&shown, "MEM0_DB_USER", json!(PASSWORD_USER), "env");
    assert_setting(
        &shown,
        "MEM0_DATABASE_AUTH_METHOD",
        json!("password"),
        "config",
    );
    let table = sandbox.run(&["config", "show", "--config", &config], &env.pairs());
    table.ok();
    assert_no_secret(&table.all_output(), &[PASSWORD], "config show");
    cluster.assert_authenticated_by(&db, "scram-sha-256");
}

/// `MEM0_DB_PASSWORD_FILE` (mode 600, one trailing newline): works, says nothing about the
/// file; the same file readable by others still works but earns a `chmod 600` warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_auth_from_a_file() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let file = sandbox.write_file("db_password", &format!("{PASSWORD}\n"), 0o600);
    let env =
        password_parts(cluster, &db).with("MEM0_DB_PASSWORD_FILE", file.display().to_string());
    let session = prove_form(&sandbox, "password file", &env, &[], &[PASSWORD]).await;
    assert!(
        !session.stderr.contains("chmod"),
        "a mode-600 secret file earned a warning:\n{}",
        session.stderr
    );
    let shown = sandbox.config_json(&[], &env.pairs());
    assert_setting(&shown, "MEM0_DB_PASSWORD", json!("***"), "file");

    let loose = sandbox.write_file("db_password_loose", &format!("{PASSWORD}\n"), 0o644);
    let env =
        password_parts(cluster, &db).with("MEM0_DB_PASSWORD_FILE", loose.display().to_string());
    let out = sandbox.run(&["migrate", "--status"], &env.pairs());
    out.ok();
    assert!(
        out.stderr.contains("chmod 600"),
        "a secret file readable by others should earn a chmod 600 warning:\n{}",
        out.describe()
    );
    assert_no_secret(&out.all_output(), &[PASSWORD], &out.what);
    cluster.assert_authenticated_by(&db, "scram-sha-256");
}

/// The password percent-encoded inside `MEM0_DATABASE_URL`, and the same URL from
/// `MEM0_DATABASE_URL_FILE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_auth_in_a_percent_encoded_url() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let encoded = percent_encode(PASSWORD);
    assert!(
        !encoded.contains(['@', ':', '/', '?', '#', ' ']),
        "{encoded}"
    );
    let url = format!(
        "postgresql://{PASSWORD_USER}:{encoded}@127.0.0.1:{}/{db}",
        cluster.port
    );
    let env = Env::new(&[("MEM0_DATABASE_URL", &url)]);
    prove_form(&sandbox, "percent-encoded URL", &env, &[], &[PASSWORD]).await;
    let shown = sandbox.config_json(&[], &env.pairs());
    assert_setting(&shown, "MEM0_DATABASE_URL", json!("***"), "env");

    let file = sandbox.write_file("database_url", &format!("{url}\n"), 0o600);
    let env = Env::new(&[("MEM0_DATABASE_URL_FILE", &file.display().to_string())]);
    let out = sandbox.run(&["migrate", "--status"], &env.pairs());
    out.ok();
    assert_no_secret(&out.all_output(), &[PASSWORD], &out.what);
    let shown = sandbox.config_json(&[], &env.pairs());
    assert_setting(&shown, "MEM0_DATABASE_URL", json!("***"), "file");
    cluster.assert_authenticated_by(&db, "scram-sha-256");
}

/// A wrong password: `migrate`, `migrate --status` and `serve` exit 4 with one line naming the
/// problem; neither the wrong nor the right password appears, in any encoding, even at
/// `MEM0_LOG=trace`.
#[test]
fn a_wrong_password_exits_4_and_is_never_shown() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let wrong = "wr0ng:p@ss/?#%&+ y";
    let encoded = percent_encode(wrong);
    let by_parts = password_parts(cluster, &db).with("MEM0_DB_PASSWORD", wrong);
    let by_url = Env::new(&[(
        "MEM0_DATABASE_URL",
        &format!(
            "postgresql://{PASSWORD_USER}:{encoded}@127.0.0.1:{}/{db}",
            cluster.port
        ),
    )]);
    for env in [by_parts, by_url] {
        for args in [&["migrate"][..], &["migrate", "--status"], &["serve"], &[]] {
            let out = sandbox.run(args, &env.pairs());
            assert_clear_failure(&out, 4, "password", &[wrong, PASSWORD]);
            let traced = sandbox.run(args, &env.clone().with("MEM0_LOG", "trace").pairs());
            traced.assert_code(4);
            assert_no_secret(&traced.all_output(), &[wrong, PASSWORD], &traced.what);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Client-certificate authentication (hostssl … cert) with verify-full
// ---------------------------------------------------------------------------------------------

fn cert_env(cluster: &Cluster, host: &str, db: &str) -> Env {
    let certs = &cluster.certs;
    Env::new(&[
        (
            "MEM0_DATABASE_URL",
            &format!("postgresql://{CERT_USER}@{host}:{}/{db}", cluster.port),
        ),
        ("MEM0_DB_SSLMODE", "verify-full"),
        ("MEM0_DB_SSLROOTCERT", &certs.ca.display().to_string()),
        ("MEM0_DB_SSLCERT", &certs.client_cert.display().to_string()),
        ("MEM0_DB_SSLKEY", &certs.client_key.display().to_string()),
    ])
}

/// `postgresql://certuser@localhost:<port>/db` + `MEM0_DB_SSLMODE=verify-full` and the CA,
/// client certificate and key, with `security.database_auth_method: "cert"`; also by IP
/// address (the server certificate has `IP:127.0.0.1` in its subjectAltName).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_auth_with_verify_full() {
    let cluster = cluster::shared();
    let db = cluster.create_database(CERT_USER);
    let sandbox = Sandbox::new();
    let config = config_file(&sandbox, "cert");
    for host in ["localhost", "127.0.0.1"] {
        let env = cert_env(cluster, host, &db);
        prove_form(
            &sandbox,
            &format!("client certificate via {host}"),
            &env,
            &["--config", &config],
            &[],
        )
        .await;
        let shown = sandbox.config_json(&["--config", &config], &env.pairs());
        assert_setting(&shown, "MEM0_DATABASE_URL", json!("***"), "env");
        assert_setting(&shown, "MEM0_DB_SSLMODE", json!("verify-full"), "env");
        assert_setting(
            &shown,
            "MEM0_DB_SSLCERT",
            json!(cluster.certs.client_cert.display().to_string()),
            "env",
        );
        assert_setting(&shown, "MEM0_DATABASE_AUTH_METHOD", json!("cert"), "config");
    }
    cluster.assert_authenticated_by(&db, "cert ssl");
}

/// No client certificate: with `database_auth_method: cert` that is a configuration error
/// (exit 2) naming `MEM0_DB_SSLCERT`; without it the server refuses the login (exit 4) and the
/// message points at the certificate settings. A server certificate from another CA fails
/// verify-full (exit 4) saying the certificate is the problem.
#[test]
fn certificate_auth_failures_are_clear() {
    let cluster = cluster::shared();
    let db = cluster.create_database(CERT_USER);
    let sandbox = Sandbox::new();
    let config = config_file(&sandbox, "cert");
    let certs = &cluster.certs;
    let url = format!("postgresql://{CERT_USER}@localhost:{}/{db}", cluster.port);
    let no_client_cert = Env::new(&[
        ("MEM0_DATABASE_URL", &url),
        ("MEM0_DB_SSLMODE", "verify-full"),
        ("MEM0_DB_SSLROOTCERT", &certs.ca.display().to_string()),
    ]);

    let out = sandbox.run(&["migrate", "--config", &config], &no_client_cert.pairs());
    assert_clear_failure(&out, 2, "MEM0_DB_SSLCERT", &[]);

    for args in [&["migrate"][..], &["serve"]] {
        let out = sandbox.run(args, &no_client_cert.pairs());
        assert_clear_failure(&out, 4, "cert", &[]);
    }

    let wrong_ca = cert_env(cluster, "localhost", &db)
        .with("MEM0_DB_SSLROOTCERT", certs.other_ca.display().to_string());
    let out = sandbox.run(&["migrate"], &wrong_ca.pairs());
    assert_clear_failure(&out, 4, "certificate", &[]);
}

/// BUG (reported): `MEM0_DB_SSLCERT` pointing at a file that does not exist. Observed: exit 4
/// with "cannot connect to the database: No such file or directory (os error 2) (NotFound);
/// check that PostgreSQL is running and that MEM0_DATABASE_URL (host, port, database, user,
/// password) is right", which names neither the setting nor the file and sends the user to
/// check the server. Expected: exit 2 or 4 with a message naming the missing file (or
/// `MEM0_DB_SSLCERT`).
#[test]
fn a_missing_client_certificate_file_is_named() {
    let cluster = cluster::shared();
    let db = cluster.create_database(CERT_USER);
    let sandbox = Sandbox::new();
    let missing = sandbox.path().join("no-such-client.crt");
    let env =
        cert_env(cluster, "localhost", &db).with("MEM0_DB_SSLCERT", missing.display().to_string());
    let out = sandbox.run(&["migrate"], &env.pairs());
    assert!(
        matches!(out.code, Some(2) | Some(4)),
        "a missing certificate file is a configuration (2) or connection (4) failure:\n{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("no-such-client.crt") || out.stderr.contains("MEM0_DB_SSLCERT"),
        "the error should name the missing client certificate file or MEM0_DB_SSLCERT:\n{}",
        out.describe()
    );
}

/// BUG (reported): an X.509 version 1 client certificate (what `openssl x509 -req` signs
/// without an extensions file) cannot be used by sqlx's rustls (webpki accepts only v3).
/// Observed: exit 4 with "cannot connect to the database: the TLS handshake failed; check that
/// PostgreSQL is running and that MEM0_DATABASE_URL (host, port, database, user, password) is
/// right". Expected: the message says the client certificate is the problem (and ideally that
/// it must be X.509 v3).
#[test]
fn an_unusable_client_certificate_is_explained() {
    let cluster = cluster::shared();
    let db = cluster.create_database(CERT_USER);
    let sandbox = Sandbox::new();
    let v1 = &cluster.certs.client_cert_v1;
    let text = run(
        sandbox.command_for(
            "openssl",
            &["x509", "-noout", "-text", "-in", &v1.display().to_string()],
            &[],
        ),
        None,
        LIMIT,
    );
    assert!(
        text.stdout.contains("Version: 1 "),
        "this openssl no longer signs X.509 v1 certificates without extensions; the test needs another way to make one:\n{}",
        text.describe()
    );
    let env = cert_env(cluster, "localhost", &db).with("MEM0_DB_SSLCERT", v1.display().to_string());
    let out = sandbox.run(&["migrate"], &env.pairs());
    out.assert_code(4);
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "the error should say that the client certificate cannot be used:\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// Error reporting
// ---------------------------------------------------------------------------------------------

/// BUG (reported): a `MEM0_DATABASE_URL` that cannot be parsed (here `sslmode=bogus`, or a
/// port above 65535) is a configuration error, exit 2 by the contract. Observed: exit 4 with
/// "database error: the PostgreSQL URL is not valid: …" (the message itself is fine and
/// secret-free).
#[test]
fn an_invalid_database_url_is_a_configuration_error() {
    let cluster = cluster::shared();
    let sandbox = Sandbox::new();
    for url in [
        format!(
            "postgresql://{PASSWORD_USER}:{}@127.0.0.1:{}/x?sslmode=bogus",
            percent_encode(PASSWORD),
            cluster.port
        ),
        format!("postgresql://{TRUST_USER}@127.0.0.1:99999/x"),
    ] {
        let out = sandbox.run(&["migrate", "--status"], &[("MEM0_DATABASE_URL", &url)]);
        assert_clear_failure(&out, 2, "MEM0_DATABASE_URL", &[PASSWORD]);
    }
}

/// BUG (reported): an unexpected database error (here a `mem0_schema_migrations` table that
/// is not ours) is reported as "mem0-mcp: database error: database error: error returned from
/// database: column \"checksum\" does not exist at line 3665": the prefix twice (the
/// `database_failure` fallback wraps `StoreError::Query`'s Display, which already says
/// "database error: "), and sqlx 0.9's ` at line N`, which is a line of PostgreSQL's own C
/// source, not of anything the user wrote. Expected: one line with PostgreSQL's message once.
#[test]
fn an_unexpected_database_error_is_reported_once() {
    let cluster = cluster::shared();
    let db = cluster.create_database(TRUST_USER);
    cluster.psql_in(
        &db,
        &format!("SET ROLE {TRUST_USER}; CREATE TABLE mem0_schema_migrations (version bigint)"),
    );
    let sandbox = Sandbox::new();
    let url = tcp_url(TRUST_USER, cluster.port, &db);
    let out = sandbox.run(&["migrate", "--status"], &[("MEM0_DATABASE_URL", &url)]);
    assert_clear_failure(&out, 4, "column \"checksum\" does not exist", &[]);
    assert!(
        !out.stderr.contains("database error: database error"),
        "the prefix is repeated:\n{}",
        out.describe()
    );
    assert!(
        !out.stderr.contains(" at line "),
        "PostgreSQL's C source line is not the user's business:\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// PgBouncer
// ---------------------------------------------------------------------------------------------

/// The PgBouncer settings the server needs: sqlx sends `extra_float_digits` and (for the
/// statement timeout) `options` in the startup packet, which PgBouncer 1.18 refuses unless
/// told to ignore them.
const IGNORE_STARTUP: &str = "ignore_startup_parameters = extra_float_digits,options";

/// The security guide's PgBouncer config (`auth_type = trust`, nothing else) works as it is:
/// the server sends no startup parameter PgBouncer refuses (statement_timeout is set with a
/// plain `SET` after connecting).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_as_the_guide_configures_it() {
    let cluster = cluster::shared();
    let db = cluster.create_database(TRUST_USER);
    let sandbox = Sandbox::new();
    let bouncer = Bouncer::start(cluster, PoolMode::Session, "");
    let url = tcp_url(TRUST_USER, bouncer.port, &db);
    let env = Env::new(&[("MEM0_DATABASE_URL", &url)]);
    prove_form(
        &sandbox,
        "pgbouncer as the guide configures it",
        &env,
        &[],
        &[],
    )
    .await;
    drop(bouncer);
}

/// Session pooling with `ignore_startup_parameters = extra_float_digits,options`: migrate and
/// serve through PgBouncer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_session_pooling() {
    let cluster = cluster::shared();
    let db = cluster.create_database(TRUST_USER);
    let sandbox = Sandbox::new();
    let bouncer = Bouncer::start(cluster, PoolMode::Session, IGNORE_STARTUP);
    let url = tcp_url(TRUST_USER, bouncer.port, &db);
    let env = Env::new(&[("MEM0_DATABASE_URL", &url)]);
    prove_form(&sandbox, "pgbouncer session pooling", &env, &[], &[]).await;
    // A second client on the pooled server connection: it works because PgBouncer runs its
    // default `server_reset_query = DISCARD ALL` between clients, dropping the first client's
    // prepared statements (see the next test for what happens without it).
    prove_form(&sandbox, "pgbouncer session pooling again", &env, &[], &[]).await;
    let shown = sandbox.config_json(&[], &env.pairs());
    assert_setting(&shown, "MEM0_DATABASE_URL", json!("***"), "env");
    assert!(
        bouncer
            .log()
            .contains(&format!("login attempt: db={db} user={TRUST_USER}")),
        "the connections did not go through PgBouncer:\n{}",
        bouncer.log()
    );
    cluster.assert_authenticated_by(&db, "trust");
    drop(bouncer);
}

/// Transaction pooling cannot work with PgBouncer 1.18: sqlx prepares every query as a named
/// statement (`sqlx_s_N`) with Parse/Sync and runs it with Bind/Execute/Sync, which PgBouncer
/// may send to different server connections, and server connections keep statements of earlier
/// clients. None of these combinations helps (1.18 has no `max_prepared_statements`):
/// - plain transaction pooling: "prepared statement \"sqlx_s_1\" already exists";
/// - `statement-cache-capacity=0` in the URL (statements are still named, just not reused);
/// - `server_reset_query_always = 1` (`DISCARD ALL` after every "transaction", i.e. between
///   Parse and Bind): "prepared statement \"sqlx_s_1\" does not exist".
///
/// The server must refuse to start (exit 4, its last line saying the database failed) rather
/// than serve and fail on the first tool call.
///
/// One test per combination, so the three (each waits for the server to give up) run in
/// parallel.
fn transaction_pooling_fails_clearly(label: &str, extra: &str, params: &str) {
    let cluster = cluster::shared();
    let sandbox = Sandbox::new();
    let db = cluster.create_database(TRUST_USER);
    // The schema, straight to PostgreSQL.
    let direct = tcp_url(TRUST_USER, cluster.port, &db);
    sandbox
        .run(&["migrate"], &[("MEM0_DATABASE_URL", &direct)])
        .ok();

    let bouncer = Bouncer::start(cluster, PoolMode::Transaction, extra);
    let url = format!("{}{params}", tcp_url(TRUST_USER, bouncer.port, &db));
    let env = [
        ("MEM0_DATABASE_URL", url.as_str()),
        ("MEM0_USER_ID", USER_ID),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "connections"),
    ];
    // A first client leaves its named statements on the pooled server connection (or,
    // with the reset, already fails).
    let first = sandbox.run(&["migrate", "--status"], &env);
    assert!(
        matches!(first.code, Some(0) | Some(4)),
        "[{label}] {}",
        first.describe()
    );
    let served = sandbox.run(&["serve"], &env);
    assert!(
        !served.timed_out,
        "[{label}] serve hung:\n{}",
        served.describe()
    );
    // sqlx's pool logs each failed connection attempt above the final line. The start
    // fails on the database (4) or, when a retry happened to land on a clean server
    // connection, on the missing token (3); it never serves.
    assert!(
        matches!(served.code, Some(3) | Some(4)),
        "[{label}] {}",
        served.describe()
    );
    let last = served
        .stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        last.starts_with("mem0-mcp: "),
        "[{label}] the last stderr line should be mem0-mcp's own:\n{}",
        served.describe()
    );
    drop(bouncer);
}

mod pgbouncer_transaction_pooling_fails_clearly {
    use super::{IGNORE_STARTUP, transaction_pooling_fails_clearly};

    #[test]
    fn plain() {
        transaction_pooling_fails_clearly("transaction pooling", IGNORE_STARTUP, "");
    }

    #[test]
    fn without_a_statement_cache() {
        transaction_pooling_fails_clearly(
            "transaction pooling, statement-cache-capacity=0",
            IGNORE_STARTUP,
            "?statement-cache-capacity=0",
        );
    }

    #[test]
    fn resetting_after_every_transaction() {
        transaction_pooling_fails_clearly(
            "transaction pooling, server_reset_query_always, statement-cache-capacity=0",
            &format!(
                "{IGNORE_STARTUP}\nserver_reset_query = DISCARD ALL\nserver_reset_query_always = 1"
            ),
            "?statement-cache-capacity=0",
        );
    }
}
