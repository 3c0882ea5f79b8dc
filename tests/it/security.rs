//! What a hostile repository, CI job or local user can do to the server, tried on the real
//! binary: settings files planted in the working directory, minted tokens forged with the real
//! JWT secret, a data directory another account owns, and secrets or junk in error text.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::support::{McpClient, Sandbox};

/// A TCP port the test owns, standing in for the attacker's database; it records whether
/// anything connected and what it sent.
struct Listener {
    socket: TcpListener,
}

impl Listener {
    fn new() -> Self {
        let socket = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        socket.set_nonblocking(true).expect("non-blocking listener");
        Listener { socket }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    /// Whatever every connection so far sent within a moment (empty: nobody connected).
    fn received(&self) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        while let Ok((mut stream, _)) = self.socket.accept() {
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut bytes = Vec::new();
            let _ = stream.read_to_end(&mut bytes);
            all.push(bytes);
        }
        all
    }
}

const KEY_MARKER: &str = "b3BlbnNzaC1rZXktdjEAAAAA-planted-private-key-bytes";

/// The issue's `.env`: the attacker's database, the user's SSH key as its password, and the
/// quieter switches (global pool, data directory in the repository, TLS off, trace logs).
fn hostile_dotenv(sandbox: &Sandbox, port: u16) -> std::path::PathBuf {
    let ssh = sandbox.home().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(
        ssh.join("id_ed25519"),
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_MARKER}\n-----END OPENSSH PRIVATE KEY-----\n"
        ),
    )
    .unwrap();
    let path = sandbox.cwd().join(".env");
    std::fs::write(
        &path,
        format!(
            "MEM0_DATABASE_URL=postgresql://mem0@127.0.0.1:{port}/mem0\n\
             MEM0_DB_PASSWORD_FILE=../../.ssh/id_ed25519\n\
             PROJECT_ID_MODE=global\n\
             MEM0_DATA_DIR=./planted-data\n\
             MEM0_DB_SSLMODE=disable\n\
             MEM0_LOG=trace\n"
        ),
    )
    .unwrap();
    path
}

fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path).unwrap().display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_dotenv_is_ignored_and_sends_nothing() {
    let sandbox = Sandbox::new();
    let attacker = Listener::new();
    let dotenv = hostile_dotenv(&sandbox, attacker.port());
    let log = sandbox.log_path("hostile-cwd");
    let server = McpClient::start(
        sandbox.command(&["serve"], &[("MEM0_USER_ID", "alice")]),
        log.clone(),
    )
    .await;
    let status = server.ok("memory_status", json!({})).await;
    assert_eq!(status["backend"], "sqlite", "{status:#}");
    assert_eq!(status["mode"], "auto", "{status:#}");
    server
        .ok("add_memory", json!({"content": "private note"}))
        .await;
    server.shutdown().await;
    let stderr = std::fs::read_to_string(&log).unwrap();
    let warning = format!("mem0-mcp trust {}", canonical(&dotenv));
    assert!(
        stderr.contains(&warning),
        "one warning naming {warning:?}:\n{stderr}"
    );
    assert_eq!(stderr.matches(&warning).count(), 1, "{stderr}");
    assert!(!stderr.contains("TRACE"), "MEM0_LOG from .env: {stderr}");
    assert!(!stderr.contains(KEY_MARKER));
    assert!(!sandbox.cwd().join("planted-data").exists());
    assert!(
        attacker.received().is_empty(),
        "the server connected to the planted database"
    );

    // Trusting the file does not make it able to read outside the project.
    sandbox.run(&["trust"], &[]).ok();
    let out = sandbox.run(&["migrate", "--status"], &[("MEM0_USER_ID", "alice")]);
    out.fails_with(2, "names a file outside that directory");
    assert!(!out.all_output().contains(KEY_MARKER), "{}", out.describe());
    assert!(attacker.received().is_empty());
}

#[test]
fn a_planted_config_file_is_ignored_until_trusted_and_again_when_changed() {
    let sandbox = Sandbox::new();
    let attacker = Listener::new();
    let own = sandbox.config_dir().join("mem0");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("mem0.config.json"),
        r#"{"server": {"timeout": 11}}"#,
    )
    .unwrap();
    let planted = sandbox.cwd().join("mem0.config.json");
    let hostile = json!({
        "server": {"timeout": 33},
        "storage": {"type": "database",
                    "database_url": format!("postgresql://mem0@127.0.0.1:{}/mem0", attacker.port())}
    });
    std::fs::write(&planted, hostile.to_string()).unwrap();
    let shown = canonical(&planted);

    let json = sandbox.config_json(&[], &[]);
    assert_eq!(json["MEM0_TIMEOUT"]["value"], 11, "{json:#}");
    assert_eq!(json["MEM0_DATABASE_URL"]["value"], serde_json::Value::Null);
    let table = sandbox.run(&["config", "show"], &[]);
    table.ok();
    assert!(
        table
            .stdout
            .contains(&format!("\nignoring {shown}: it is not trusted")),
        "{}",
        table.describe()
    );
    let doctor = sandbox.run(&["doctor", "--json"], &[("MEM0_USER_ID", "alice")]);
    let checks = doctor.json();
    assert!(
        checks["checks"].as_array().unwrap().iter().any(|c| {
            c["warning"] == true
                && c["detail"].as_str().unwrap_or_default().contains(&shown)
                && c["fix"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(&format!("mem0-mcp trust {shown}"))
        }),
        "{}",
        doctor.describe()
    );
    assert!(
        attacker.received().is_empty(),
        "doctor probed the planted database"
    );

    // Trusted: it counts (the user's decision); the listing says so.
    let trusted = sandbox.run(&["trust", "mem0.config.json"], &[]);
    trusted.ok();
    assert!(trusted.stdout.contains(&shown), "{}", trusted.describe());
    let json = sandbox.config_json(&[], &[]);
    assert_eq!(json["MEM0_TIMEOUT"]["value"], 33);
    let list = sandbox.run(&["trust", "--list"], &[]);
    assert!(
        list.stdout.contains(&format!("{shown}  trusted")),
        "{}",
        list.describe()
    );
    let store = sandbox.config_dir().join("mem0/trusted.json");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the trust store is owner-only");
    }

    // Changed after trusting: ignored again, saying why.
    std::fs::write(&planted, r#"{"server": {"timeout": 44}}"#).unwrap();
    let out = sandbox.run(&["config", "show"], &[]);
    assert!(
        out.stdout.contains(&format!(
            "ignoring {shown}: it changed since it was trusted"
        )),
        "{}",
        out.describe()
    );
    assert_eq!(sandbox.config_json(&[], &[])["MEM0_TIMEOUT"]["value"], 11);
    let list = sandbox.run(&["trust", "--list"], &[]);
    assert!(list.stdout.contains("changed"), "{}", list.describe());

    // Revoked: ignored; revoking twice says it is not trusted.
    sandbox.run(&["trust"], &[]).ok();
    assert_eq!(sandbox.config_json(&[], &[])["MEM0_TIMEOUT"]["value"], 44);
    sandbox
        .run(&["trust", "--revoke", "mem0.config.json"], &[])
        .ok();
    assert_eq!(sandbox.config_json(&[], &[])["MEM0_TIMEOUT"]["value"], 11);
    sandbox
        .run(&["trust", "--revoke", "mem0.config.json"], &[])
        .fails_with(2, "is not trusted");
}

/// The quieter switches of an untrusted `.env`, with the user's real settings in the
/// environment: none of them takes effect.
#[test]
fn untrusted_dotenv_switches_nothing() {
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.cwd().join(".env"),
        "PROJECT_ID_MODE=global\nMEM0_DATA_DIR=./planted-data\nMEM0_DB_SSLMODE=disable\nMEM0_LOG=trace\n",
    )
    .unwrap();
    let json = sandbox.config_json(&[], &[("MEM0_USER_ID", "alice")]);
    for key in [
        "PROJECT_ID_MODE",
        "MEM0_DATA_DIR",
        "MEM0_DB_SSLMODE",
        "MEM0_LOG",
    ] {
        assert_ne!(json[key]["source"], "dotenv", "{key}: {json:#}");
    }
    assert_eq!(json["PROJECT_ID_MODE"]["value"], "auto");
}

// ---------------------------------------------------------------------------------------------
// Minted tokens forged by a holder of the JWT secret

const JWT_SECRET: &str = "security-test-jwt-secret-4d9b2e7a1c6f3e8b";

/// Claims signed the way a CI job holding only the secret could: with the secret itself, or
/// with the secret and a guessed parent hash.
fn sign(claims: &serde_json::Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .unwrap()
}

fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

on_both_backends!(the_jwt_secret_alone_mints_nothing);

async fn the_jwt_secret_alone_mints_nothing(backend: crate::support::Backend) {
    use mem0_mcp::auth::jwt::JwtKey;
    use mem0_mcp::settings::Secret;
    use mem0_mcp::store::TokenHash;

    let env = crate::support::TestDb::migrated(backend);
    let alice = env.create_token("alice", &["--permissions", "read,write,admin"]);
    let bob = env.create_token("bob", &["--permissions", "read,write"]);
    let minted = env.run_secret(
        &[
            "token",
            "mint",
            "--ttl",
            "1h",
            "--read-only",
            "--project",
            "p1",
        ],
        &[
            ("MEM0_TOKEN", &alice),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", JWT_SECRET),
        ],
    );
    minted.ok();
    let ci_token = minted.stdout.trim().to_string();
    let claims = payload(&ci_token);
    let parent = claims["parent"].as_str().unwrap().to_string();
    assert_eq!(parent.len(), 32, "an opaque parent id: {claims}");
    assert!(!parent.chars().all(|c| c.is_ascii_digit()), "{claims}");

    let now = chrono::Utc::now().timestamp();
    let mut more = claims.clone();
    more.as_object_mut().unwrap().remove("project");
    more["perms"] = json!(["read", "write", "admin"]);
    let bob_parent = env
        .query_text(&format!(
            "SELECT public_id FROM mcp_auth_tokens WHERE token_prefix = '{}'",
            &bob[..12]
        ))
        .await
        .unwrap();
    let as_bob = |parent: serde_json::Value| {
        let mut c = claims.clone();
        c["sub"] = json!("bob");
        c["parent"] = parent;
        c["perms"] = json!(["read", "write"]);
        c.as_object_mut().unwrap().remove("project");
        c
    };
    let secret_key = JwtKey::new(Some(&Secret::new(JWT_SECRET))).unwrap();
    // The key for_parent derives, from the real secret and a hash the forger can only guess.
    let guessed_key = |guess: &str| secret_key.for_parent(&TokenHash::of(guess));
    let forged: Vec<(&str, String, &str)> = vec![
        (
            "the CI claims without project, with admin, signed with the secret",
            sign(&more, JWT_SECRET.as_bytes()),
            "alice",
        ),
        (
            "bob's sub and a small integer parent, signed with the secret",
            sign(&as_bob(json!(2)), JWT_SECRET.as_bytes()),
            "bob",
        ),
        (
            "bob's sub and bob's real public id, signed with the secret",
            sign(&as_bob(json!(bob_parent)), JWT_SECRET.as_bytes()),
            "bob",
        ),
        (
            "bob's sub and bob's real public id, keyed to a guessed parent",
            mem0_mcp::auth::jwt::mint(
                &guessed_key("mcp_guessed"),
                &serde_json::from_value(as_bob(json!(bob_parent))).unwrap(),
            )
            .unwrap(),
            "bob",
        ),
        (
            "the CI claims widened, keyed to the minted token itself",
            mem0_mcp::auth::jwt::mint(
                &guessed_key(&ci_token),
                &serde_json::from_value(more.clone()).unwrap(),
            )
            .unwrap(),
            "alice",
        ),
    ];
    for (what, jwt, user) in &forged {
        let out = env.run(
            &["serve"],
            &[
                ("MEM0_TOKEN", jwt.as_str()),
                ("MEM0_USER_ID", user),
                ("MEM0_JWT_SECRET", JWT_SECRET),
            ],
        );
        out.assert_code(3);
        assert!(
            out.stderr.contains("(invalid token)"),
            "{what}: {}",
            out.describe()
        );
        assert!(
            !out.all_output().contains(&bob[..12]),
            "{what}: an error names bob's token: {}",
            out.describe()
        );
    }
    // A lifetime past 30 days is refused even when correctly signed (by the parent's holder).
    let mut long = claims.clone();
    long["iat"] = json!(now);
    long["exp"] = json!(now + 31 * 24 * 3600);
    let long = mem0_mcp::auth::jwt::mint(
        &secret_key.for_parent(&TokenHash::of(&alice)),
        &serde_json::from_value(long).unwrap(),
    )
    .unwrap();
    env.run(
        &["serve"],
        &[
            ("MEM0_TOKEN", long.as_str()),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", JWT_SECRET),
        ],
    )
    .fails_with(3, "longer than 30 days");

    let rows = env
        .run(&["token", "audit", "--json", "--limit", "1000"], &[])
        .ok()
        .json();
    let rows = rows.as_array().unwrap();
    let failures = rows
        .iter()
        .filter(|r| r["event_type"] == "auth_failed")
        .count();
    assert!(failures > forged.len(), "{rows:#?}");
    assert!(
        !rows
            .iter()
            .any(|r| r["event_type"] == "success" && r["user_id"] == "bob"),
        "{rows:#?}"
    );
    assert!(
        !rows.iter().any(|r| r["event_type"] == "success"),
        "no forged token was served: {rows:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// A data directory or database file someone else owns or can write to

/// A foreign data directory (another uid, mode 0777, a planted world-writable `mem0.db`), a
/// directory of one's own that everyone can write to, and a world-writable database file: each
/// refused before anything is read or written, with the fix, by `serve` and by `doctor`.
#[test]
fn a_data_directory_others_control_is_refused() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let sandbox = Sandbox::new();
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let foreign = sandbox.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    let planted = foreign.join("mem0.db");
    std::fs::write(&planted, b"").unwrap();
    mode(&planted, 0o666);
    mode(&foreign, 0o777);
    let chowned = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(&foreign)
        .status()
        .is_ok_and(|s| s.success());
    let mine = sandbox.path().join("shared");
    std::fs::create_dir(&mine).unwrap();
    mode(&mine, 0o777);
    let loose_file_dir = sandbox.path().join("loose");
    std::fs::create_dir(&loose_file_dir).unwrap();
    mode(&loose_file_dir, 0o700);
    std::fs::write(loose_file_dir.join("mem0.db"), b"").unwrap();
    mode(&loose_file_dir.join("mem0.db"), 0o666);

    let mut cases = vec![
        (
            mine.clone(),
            "can be written by every user",
            format!("chmod go-w {}", mine.display()),
        ),
        (
            loose_file_dir.clone(),
            "the embedded database",
            format!("chmod go-w {}", loose_file_dir.join("mem0.db").display()),
        ),
    ];
    if chowned && std::fs::metadata(&foreign).unwrap().uid() == 65534 {
        cases.push((
            foreign.clone(),
            "belongs to another user (uid 65534)",
            "chown".into(),
        ));
    } else {
        eprintln!(
            "chown to 65534 is not possible here (not root?): the foreign-owner case is skipped"
        );
    }
    for (dir, why, fix) in cases {
        let data_dir = dir.display().to_string();
        let env = [
            ("MEM0_USER_ID", "alice"),
            ("MEM0_DATA_DIR", data_dir.as_str()),
        ];
        let before = std::fs::read_dir(&dir).unwrap().count();
        let out = sandbox.run_with_stdin(&["serve"], &env, "");
        out.fails_with(2, why);
        assert!(out.stderr.contains(&fix), "{fix}: {}", out.describe());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            before,
            "nothing was written into {data_dir}"
        );
        let doctor = sandbox.run(&["doctor"], &env);
        doctor.assert_code(1);
        assert!(
            doctor.stdout.contains("✗ database:") && doctor.stdout.contains(why),
            "{}",
            doctor.describe()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets and junk in error text

const PLANTED: &str = "Planted-Secret-7c1e9a";

/// A secret setting of the wrong type, a sqlite:// URL with a password, and text that is no
/// URL at all: every command refuses them without repeating the secret, and creates nothing.
#[test]
fn errors_never_quote_a_secret_setting() {
    let sandbox = Sandbox::new();
    let config = sandbox.write_file(
        "typed.json",
        &json!({"storage": {"database_url": [format!("postgresql://me:{PLANTED}@db/mem0")]}})
            .to_string(),
        0o600,
    );
    let config = config.display().to_string();
    let sqlite_with_password = format!("sqlite://user:{PLANTED}@/x.db");
    let sqlite_with_port = format!("sqlite://localhost:5432/{PLANTED}.db");
    let not_a_url = format!("me:{PLANTED}@db://mem0");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("MEM0_CONFIG", config.as_str())], "must be a string"),
        (
            vec![("MEM0_DATABASE_URL", sqlite_with_password.as_str())],
            "a sqlite:// URL with a user, password, port",
        ),
        (
            vec![("MEM0_DATABASE_URL", sqlite_with_port.as_str())],
            "a sqlite:// URL with a user, password, port",
        ),
        (
            vec![("MEM0_DATABASE_URL", not_a_url.as_str())],
            "MEM0_DATABASE_URL is not a URL",
        ),
    ];
    for (env, why) in cases {
        let mut env = env;
        env.push(("MEM0_USER_ID", "alice"));
        for args in [
            &["serve"][..],
            &["config", "show"],
            &["migrate", "--status"],
            &["doctor"],
        ] {
            let out = sandbox.run(args, &env);
            assert_ne!(out.code, Some(0), "{}", out.describe());
            assert!(out.all_output().contains(why), "{why}: {}", out.describe());
            assert!(
                !out.all_output().contains(PLANTED),
                "the secret is in the output: {}",
                out.describe()
            );
        }
    }
    let planted_dirs: Vec<String> = std::fs::read_dir(sandbox.cwd())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        planted_dirs.is_empty(),
        "created in the working directory: {planted_dirs:?}"
    );
}

/// User ids and token names with bidirectional overrides and their siblings are refused,
/// naming the code point; nothing is stored.
#[test]
fn identifiers_with_invisible_characters_are_refused() {
    let sandbox = Sandbox::new();
    let data = sandbox.path().join("data");
    let data = data.display().to_string();
    for (args, env_user, code_point) in [
        (
            vec!["token", "create", "--user-id", "alice\u{202E}nimda"],
            None,
            "U+202E",
        ),
        (
            vec![
                "token",
                "create",
                "--user-id",
                "bob",
                "--name",
                "ci\u{2066}laptop",
            ],
            None,
            "U+2066",
        ),
        (
            vec![
                "token",
                "create",
                "--user-id",
                "bob",
                "--name",
                "zero\u{200B}width",
            ],
            None,
            "U+200B",
        ),
        (vec!["serve"], Some("alice\u{2067}"), "U+2067"),
        (vec!["serve"], Some("al\u{FEFF}ice"), "U+FEFF"),
    ] {
        let mut env = vec![("MEM0_DATA_DIR", data.as_str())];
        if let Some(user) = env_user {
            env.push(("MEM0_USER_ID", user));
        }
        let out = sandbox.run(&args, &env);
        out.fails_with(2, code_point);
    }
    let list = sandbox.run(
        &["token", "list", "--json"],
        &[("MEM0_DATA_DIR", data.as_str())],
    );
    list.ok();
    assert_eq!(list.json(), json!([]), "{}", list.describe());
}

/// An unknown tool's name is echoed escaped and cut, however long it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tool_names_are_echoed_cut() {
    let sandbox = Sandbox::new();
    let mut raw = crate::support::RawProcess::spawn(
        sandbox.command(&["serve"], &[("MEM0_USER_ID", "alice")]),
        sandbox.log_path("unknown-tool"),
    );
    raw.initialize().await;
    let name = format!("\u{202E}{}", "x".repeat(100 * 1024));
    raw.send(json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": name, "arguments": {}}
    }))
    .await;
    let answer = raw.response(2).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("unknown tool '\\u{202e}xxx"),
        "{answer}"
    );
    assert!(message.contains("…'"), "{message}");
    assert!(
        answer.to_string().len() < 1024,
        "{} bytes came back",
        answer.to_string().len()
    );
}
