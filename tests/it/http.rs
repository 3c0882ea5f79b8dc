//! The team server (`serve --http`) on the real binary over real HTTP, on both backends: the
//! seven authentication cases with headers and with Bearer, the user-isolation matrix,
//! read-only tokens, the refusals (401, 403, 413, 429), revocation of a live client, health,
//! readiness following the database, client addresses behind a trusted proxy, graceful
//! shutdown, the official Python SDK's Streamable HTTP client, two replicas answering one client
//! alternately, and the stdio bridge launched as Claude Desktop launches a server (with the
//! project from the client's roots).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::http::{HttpClient, HttpServer};
use crate::support::{Backend, McpClient, TestDb};

on_both_backends!(auth_cases, isolation_matrix, read_only_tokens);

fn display_id(token: &str) -> String {
    token[..12].to_string()
}

async fn audit_rows(env: &TestDb) -> Vec<Value> {
    env.run(&["token", "audit", "--json"], &[])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// A refused request: the status, `WWW-Authenticate` on a 401, and the cause in the message.
async fn refused(client: &HttpClient, status: u16, needle: &str) {
    let reply = client.request("tools/list", json!({})).await;
    assert_eq!(reply.status, status, "{needle}: {}", reply.text);
    assert_eq!(reply.body["jsonrpc"], "2.0", "{}", reply.text);
    assert!(
        reply.error_message().contains(needle),
        "{needle}: {}",
        reply.text
    );
    if status == 401 {
        assert_eq!(
            reply.header("www-authenticate"),
            "Bearer realm=\"mem0-mcp\""
        );
    }
}

async fn auth_cases(backend: Backend) {
    let env = TestDb::migrated(backend);
    let server = HttpServer::start(&env, &[]);
    let anonymous = HttpClient::new(&server.url());
    let token = env.create_token("alice", &["--name", "Alice"]);
    let id = display_id(&token);
    let unknown = format!("mcp_{}", "A".repeat(43));

    // Each case with the two headers and with Authorization: Bearer (plus X-MCP-UserID where
    // the case needs a user).
    let header = |token: &str, user: &str| anonymous.clone().signed_in(token, user);
    let bearer =
        |token: &str, user: &str| anonymous.clone().bearer(token).with("X-MCP-UserID", user);

    // 1. Missing credentials.
    refused(&anonymous, 401, "(missing token)").await;
    refused(
        &anonymous.clone().with("X-MCP-UserID", "alice"),
        401,
        "(missing token)",
    )
    .await;
    // 2. Invalid tokens: unknown, and not a token at all.
    for client in [header(&unknown, "alice"), bearer(&unknown, "alice")] {
        refused(&client, 401, "(invalid token)").await;
    }
    refused(&header("hunter2", "alice"), 401, "(invalid token)").await;
    refused(
        &anonymous
            .clone()
            .with("Authorization", "Basic YWxpY2U6eA=="),
        401,
        "Bearer TOKEN",
    )
    .await;
    // 3. A token of another user.
    for client in [header(&token, "bob"), bearer(&token, "bob")] {
        refused(&client, 401, "(user id mismatch)").await;
    }
    // 4. Valid, with either header, and without X-MCP-UserID (the token's own user).
    for client in [
        header(&token, "alice"),
        bearer(&token, "alice"),
        anonymous.clone().bearer(&token),
    ] {
        client.initialize().await;
        let status = client.ok("memory_status", json!({})).await;
        assert_eq!(status["user_id"], "alice");
        assert_eq!(status["backend"], backend.name());
    }
    // 5. Revoked (a token not used yet, so nothing is remembered about it), 6. re-enabled.
    let second = env.create_token("alice", &[]);
    let second_id = display_id(&second);
    env.run(&["token", "revoke", &second_id, "--yes"], &[]).ok();
    refused(&header(&second, "alice"), 401, "(disabled token)").await;
    refused(&bearer(&second, "alice"), 401, "(disabled token)").await;
    env.run(&["token", "enable", &second_id], &[]).ok();
    bearer(&second, "alice")
        .ok("memory_status", json!({}))
        .await;
    // 7. Expired.
    let third = env.create_token("alice", &[]);
    env.execute(&env.expire_sql(&display_id(&third))).await;
    refused(&header(&third, "alice"), 401, "(expired token)").await;
    refused(&bearer(&third, "alice"), 401, "(expired token)").await;

    // The audit log: every refusal with its cause and the client address, and one success
    // per token however many requests it made.
    let rows = audit_rows(&env).await;
    let failed = |needle: &str| {
        rows.iter().any(|r| {
            r["event_type"] == "auth_failed"
                && r["error_message"].as_str().unwrap_or("").contains(needle)
                && r["error_message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("(from 127.0.0.1)")
        })
    };
    for cause in [
        "missing token",
        "no such token",
        "malformed token",
        "user id mismatch: the token belongs to alice",
        "token disabled",
        "token expired",
        "unreadable credential headers",
    ] {
        assert!(failed(cause), "{cause}: {rows:#?}");
    }
    let successes = rows
        .iter()
        .filter(|r| r["event_type"] == "success" && r["token_prefix"] == id.as_str())
        .count();
    assert_eq!(successes, 1, "{rows:#?}");
    let last_used = env
        .query_text(&format!(
            "SELECT CAST(last_used_at AS TEXT) FROM mcp_auth_tokens WHERE token_prefix = '{id}'"
        ))
        .await;
    assert!(last_used.is_some(), "last_used_at is set");
    // No token in the server's log.
    let log = server.log();
    for secret in [&token, &second, &third] {
        assert!(!log.contains(secret.as_str()), "a token is in the log");
    }
}

async fn isolation_matrix(backend: Backend) {
    let env = TestDb::migrated(backend);
    let server = HttpServer::start(&env, &[]);
    let alice_token = env.create_token("alice", &[]);
    let bob_token = env.create_token("bob", &[]);
    let base = HttpClient::new(&server.url());
    let alice = |project: &str| {
        base.clone()
            .signed_in(&alice_token, "alice")
            .with("X-MCP-Project", project)
    };
    let bob = |project: &str| {
        base.clone()
            .signed_in(&bob_token, "bob")
            .with("X-MCP-Project", project)
    };

    let added = alice("widgets")
        .ok(
            "add_memory",
            json!({"content": "widgets build with cargo xtask"}),
        )
        .await;
    assert_eq!(added["scope"]["project_id"], "widgets");
    assert_eq!(added["scope"]["user_id"], "alice");
    let id = added["memory"]["id"].as_str().unwrap().to_string();
    let search = json!({"query": "cargo xtask"});
    // The same user in the same project finds it; in another project, not.
    assert_eq!(
        alice("widgets").ok("search_memories", search.clone()).await["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        alice("gadgets").ok("search_memories", search.clone()).await["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Another user in the same project finds nothing and cannot read it by id.
    assert_eq!(
        bob("widgets").ok("search_memories", search.clone()).await["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    bob("widgets").err("get_memory", json!({"id": id})).await;
    bob("widgets").err("delete_memory", json!({"id": id})).await;
    // Claiming another user's id with one's own token is refused.
    refused(
        &base.clone().signed_in(&bob_token, "alice"),
        401,
        "(user id mismatch)",
    )
    .await;
    // Without X-MCP-Project: the server's PROJECT_ID, else `default`.
    let plain = base.clone().signed_in(&alice_token, "alice");
    assert_eq!(
        plain.ok("memory_status", json!({})).await["project_id"],
        "default"
    );
    // A project id that is not valid is refused before anything runs.
    let bad = alice("my project;drop")
        .request("tools/list", json!({}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(
        bad.error_message().contains("X-MCP-Project"),
        "{}",
        bad.text
    );
    drop(server);

    // Global mode: the shared pool, whatever the header says; only the author or an admin
    // changes a memory.
    let carol_token = env.create_token("carol", &["--permissions", "read,write,admin"]);
    let server = HttpServer::start(&env, &[("PROJECT_ID_MODE", "global")]);
    let base = HttpClient::new(&server.url());
    let alice = base
        .clone()
        .signed_in(&alice_token, "alice")
        .with("X-MCP-Project", "widgets");
    let bob = base.clone().signed_in(&bob_token, "bob");
    let carol = base.clone().signed_in(&carol_token, "carol");
    let shared = alice
        .ok(
            "add_memory",
            json!({"content": "deploys go through fly.io"}),
        )
        .await;
    assert_eq!(shared["scope"]["project_id"], "global");
    assert_eq!(shared["scope"]["mode"], "global");
    let shared_id = shared["memory"]["id"].as_str().unwrap().to_string();
    let seen = bob.ok("get_memory", json!({"id": shared_id})).await;
    assert_eq!(seen["memory"]["user_id"], "alice");
    let message = bob.err("delete_memory", json!({"id": shared_id})).await;
    assert!(message.contains("admin permission"), "{message}");
    carol
        .ok(
            "update_memory",
            json!({"id": shared_id, "content": "deploys go through fly.io (admin)"}),
        )
        .await;
    carol.ok("delete_memory", json!({"id": shared_id})).await;
}

async fn read_only_tokens(backend: Backend) {
    let env = TestDb::migrated(backend);
    let server = HttpServer::start(&env, &[("PROJECT_ID_MODE", "manual"), ("PROJECT_ID", "p")]);
    let reader_token = env.create_token("reader", &["--permissions", "read"]);
    let writer_token = env.create_token("writer", &[]);
    let reader = HttpClient::new(&server.url()).bearer(&reader_token);
    let writer = HttpClient::new(&server.url()).bearer(&writer_token);
    let read_tools = [
        "get_memory",
        "list_memories",
        "memory_history",
        "memory_status",
        "search_memories",
    ];
    assert_eq!(reader.tool_names().await, read_tools);
    let all = writer.tool_names().await;
    assert!(all.contains(&"add_memory".to_string()), "{all:?}");
    for (tool, args) in [
        ("add_memory", json!({"content": "x"})),
        ("add_coding_preference", json!({"text": "x"})),
        ("delete_all_memories", json!({"confirm": true})),
    ] {
        let message = reader.err(tool, args).await;
        assert!(message.contains("write permission"), "{tool}: {message}");
    }
    // Requests alternate between the two users on one server: nothing carries over.
    writer
        .ok("add_memory", json!({"content": "writer fact"}))
        .await;
    assert_eq!(reader.ok("list_memories", json!({})).await["total"], 0);
    assert_eq!(reader.tool_names().await, read_tools);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_403_413_429() {
    let env = TestDb::migrated(Backend::Sqlite);
    let server = HttpServer::start(
        &env,
        &[
            ("MEM0_HTTP_ALLOWED_ORIGINS", "https://app.example.com"),
            ("MEM0_HTTP_ALLOWED_HOSTS", "mem0.example.com"),
        ],
    );
    let token = env.create_token("alice", &[]);
    let client = HttpClient::new(&server.url()).bearer(&token);
    client.ok("memory_status", json!({})).await;

    // Origins: the server's own and the allowed ones pass, others are refused.
    let own = format!("http://127.0.0.1:{}", server.port);
    client
        .clone()
        .with("Origin", &own)
        .ok("memory_status", json!({}))
        .await;
    client
        .clone()
        .with("Origin", "https://app.example.com")
        .ok("memory_status", json!({}))
        .await;
    refused(
        &client.clone().with("Origin", "https://evil.example"),
        403,
        "Origin",
    )
    .await;
    // Hosts: loopback names and the allowed ones pass; a rebound name is refused.
    client
        .clone()
        .with("Host", "mem0.example.com")
        .ok("memory_status", json!({}))
        .await;
    client
        .clone()
        .with("Host", &format!("localhost:{}", server.port))
        .ok("memory_status", json!({}))
        .await;
    refused(
        &client.clone().with("Host", "attacker.example"),
        403,
        "Host",
    )
    .await;

    // A body over 4 MiB is refused from its Content-Length, before it is read (the test
    // speaks HTTP/1.1 by hand: a client still sending would see the connection close).
    let status_line = {
        use std::io::{BufRead, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        write!(
            stream,
            "POST /mcp/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n",
            5 * 1024 * 1024
        )
        .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stream)
            .read_line(&mut line)
            .unwrap();
        line
    };
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    // Under the limit the transport takes it (and the tool's own 32 KiB limit answers).
    let content = "x".repeat(1024 * 1024);
    let message = client
        .err("add_memory", json!({ "content": content }))
        .await;
    assert!(message.contains("32 KiB"), "{message}");

    // Repeated failures from one address: 429 with Retry-After, and the audit log stops growing.
    let wrong = HttpClient::new(&server.url()).bearer(&format!("mcp_{}", "B".repeat(43)));
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(wrong.request("tools/list", json!({})).await.status);
    }
    assert_eq!(statuses[..20], [401; 20], "{statuses:?}");
    assert_eq!(statuses[20..], [429; 5], "{statuses:?}");
    let limited = client.request("tools/list", json!({})).await;
    assert_eq!(
        limited.status, 429,
        "even a valid token waits: {}",
        limited.text
    );
    let retry_after: u64 = limited
        .header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let failures = audit_rows(&env)
        .await
        .iter()
        .filter(|r| r["event_type"] == "auth_failed")
        .count();
    assert_eq!(failures, 20);
    // Health needs no token, even now.
    let (status, body) = client.get(&server.at("/healthz")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

/// Behind a trusted reverse proxy the client address is the right-most untrusted
/// `X-Forwarded-For` entry: refusals are limited per forwarded address and audited under it.
/// From a peer that is not trusted the header is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_behind_a_trusted_proxy() {
    let env = TestDb::migrated(Backend::Sqlite);
    let token = env.create_token("alice", &[]);
    let wrong = format!("mcp_{}", "C".repeat(43));
    let from = |server: &HttpServer, token: &str, forwarded: &str| {
        HttpClient::new(&server.url())
            .bearer(token)
            .with("X-Forwarded-For", forwarded)
    };

    let proxied = HttpServer::start(
        &env,
        &[("MEM0_HTTP_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")],
    );
    let mut statuses = Vec::new();
    for _ in 0..21 {
        // The client-supplied left part cannot choose the address.
        let spoofing = format!("203.0.113.{}, 198.51.100.1, 10.1.2.3", statuses.len());
        let reply = from(&proxied, &wrong, &spoofing)
            .request("tools/list", json!({}))
            .await;
        statuses.push(reply.status);
    }
    assert_eq!(statuses[..20], [401; 20], "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");
    let limited = from(&proxied, &token, "198.51.100.1")
        .request("tools/list", json!({}))
        .await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.text.contains("198.51.100.1"), "{}", limited.text);
    // Another forwarded address is not limited, with a wrong token or a valid one.
    let other = from(&proxied, &wrong, "198.51.100.2")
        .request("tools/list", json!({}))
        .await;
    assert_eq!(other.status, 401, "{}", other.text);
    from(&proxied, &token, "198.51.100.3")
        .ok("memory_status", json!({}))
        .await;
    let audited: Vec<String> = audit_rows(&env)
        .await
        .iter()
        .filter(|r| r["event_type"] == "auth_failed")
        .map(Value::to_string)
        .collect();
    assert_eq!(audited.len(), 21, "{audited:#?}");
    assert_eq!(
        audited
            .iter()
            .filter(|r| r.contains("from 198.51.100.1"))
            .count(),
        20,
        "{audited:#?}"
    );
    assert!(audited.iter().any(|r| r.contains("from 198.51.100.2")));
    assert!(
        !audited.iter().any(|r| r.contains("203.0.113.")),
        "{audited:#?}"
    );

    // Without trusted proxies the header is ignored: the loopback peer is the client.
    let direct = HttpServer::start(&env, &[]);
    let mut statuses = Vec::new();
    for _ in 0..21 {
        let forwarded = format!("198.51.100.{}", 100 + statuses.len());
        let reply = from(&direct, &wrong, &forwarded)
            .request("tools/list", json!({}))
            .await;
        statuses.push(reply.status);
    }
    assert_eq!(statuses[..20], [401; 20], "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");
    let limited = from(&direct, &wrong, "198.51.100.250")
        .request("tools/list", json!({}))
        .await;
    assert!(limited.text.contains("127.0.0.1"), "{}", limited.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_a_live_client() {
    let env = TestDb::migrated(Backend::Postgres);
    let server = HttpServer::start(&env, &[("MEM0_AUTH_RECHECK_SECS", "1")]);
    let token = env.create_token("alice", &[]);
    let client = HttpClient::new(&server.url()).signed_in(&token, "alice");
    client.ok("memory_status", json!({})).await;
    env.run(&["token", "revoke", &display_id(&token), "--yes"], &[])
        .ok();
    // The bound is a ceiling, not a measurement.
    let start = Instant::now();
    loop {
        let reply = client.request("tools/list", json!({})).await;
        if reply.status == 401 {
            assert!(
                reply.error_message().contains("(disabled token)"),
                "{}",
                reply.text
            );
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still served after revocation"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_graceful_shutdown() {
    let env = TestDb::migrated(Backend::Postgres);
    let mut server = HttpServer::start(&env, &[]);
    let client = HttpClient::new(&server.url());
    for path in ["/healthz", "/readyz"] {
        let (status, body) = client.get(&server.at(path)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            body.as_object().unwrap().len(),
            2,
            "only status and version: {body}"
        );
    }
    let status = server.stop();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(
        server.log().contains("the HTTP server stopped"),
        "{}",
        server.log()
    );
}

/// `/readyz` follows the database: 503 while PostgreSQL refuses every connection to it (the
/// pooled ones terminated), 200 again once connections are allowed; `/healthz` stays 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    use crate::support::pg::{admin_execute, admin_scalar};
    let env = TestDb::migrated(Backend::Postgres);
    let server = HttpServer::start(&env, &[]);
    let client = HttpClient::new(&server.url());
    let (status, body) = client.get(&server.at("/readyz")).await;
    assert_eq!(status, 200, "{body}");

    let name = env.pg().name.clone();
    admin_execute(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false")).await;
    let mut left = 1;
    for _ in 0..600 {
        left = admin_scalar(format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()) AS t"
        ))
        .await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        left, 0,
        "the server's connections to {name} did not go away"
    );
    let (status, body) = client.get(&server.at("/readyz")).await;
    let (health, _) = client.get(&server.at("/healthz")).await;
    admin_execute(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true")).await;
    assert_eq!(status, 503, "{body}\n{}", server.log());
    assert_eq!(body["status"], "database unavailable", "{body}");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(health, 200, "the process still serves");

    let mut ready = (0, Value::Null);
    for _ in 0..60 {
        ready = client.get(&server.at("/readyz")).await;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(ready.0, 200, "ready again: {}\n{}", ready.1, server.log());
    assert!(
        server.log().contains("readiness check"),
        "the failed check is logged\n{}",
        server.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_streamable_http_client() {
    let python = std::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/mcp-sdk-venv.sh"
        ))
        .output()
        .expect("scripts/mcp-sdk-venv.sh");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    let python = String::from_utf8(python.stdout).unwrap().trim().to_string();
    let env = TestDb::migrated(Backend::Postgres);
    let server = HttpServer::start(&env, &[("PROJECT_ID_MODE", "manual"), ("PROJECT_ID", "py")]);
    let token = env.create_token("alice", &[]);
    let out = std::process::Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/python-sdk-check.py"
        ))
        .args(["--http", &server.url()])
        .env("MEM0_TOKEN", &token)
        .env("MEM0_USER_ID", "alice")
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("ok: mem0-mcp"),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_answer_one_client_alternately() {
    let env = TestDb::migrated(Backend::Postgres);
    let one = HttpServer::start(&env, &[]);
    let two = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    let client = HttpClient::new(&one.url())
        .signed_in(&token, "alice")
        .with("X-MCP-Project", "shared");
    let a = client.clone();
    let b = client.clone().at(&two.url());
    // The handshake on one replica, everything after it alternating.
    a.initialize().await;
    let added = b
        .ok(
            "add_memory",
            json!({"content": "replicas share the database"}),
        )
        .await;
    let id = added["memory"]["id"].as_str().unwrap().to_string();
    a.ok(
        "update_memory",
        json!({"id": id, "content": "replicas share one database"}),
    )
    .await;
    let history = b.ok("memory_history", json!({"id": id})).await;
    assert_eq!(history["events"].as_array().unwrap().len(), 2);
    for call in [
        ("search_memories", json!({"query": "replicas"})),
        ("list_memories", json!({})),
        ("get_memory", json!({"id": id})),
        ("memory_status", json!({})),
    ] {
        let from_a = a.ok(call.0, call.1.clone()).await;
        let from_b = b.ok(call.0, call.1.clone()).await;
        assert_eq!(from_a, from_b, "{}", call.0);
    }
    assert_eq!(a.tool_names().await, b.tool_names().await);
    b.ok("delete_memory", json!({"id": id})).await;
    a.err("get_memory", json!({"id": id})).await;
}

/// The bridge as Claude Desktop starts a server: a command with variables, no database.
fn bridge_command(
    env: &TestDb,
    url: &str,
    token: &str,
    extra: &[(&str, &str)],
) -> std::process::Command {
    let home = env.data_dir();
    let home = home.display().to_string();
    let mut cmd = std::process::Command::new(crate::support::BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("MEM0_DATA_DIR", &home)
        .env("MEM0_LOG", "info")
        .env("MEM0_SERVER_URL", url)
        .env("MEM0_TOKEN", token)
        .env("MEM0_USER_ID", "alice");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_forwards_a_desktop_client() {
    let env = TestDb::migrated(Backend::Postgres);
    let server = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    let cmd = bridge_command(
        &env,
        &server.url(),
        &token,
        &[("PROJECT_ID_MODE", "manual"), ("PROJECT_ID", "desk")],
    );
    let client = McpClient::start(cmd, env.log_path("bridge")).await;
    let names = client.tool_names().await;
    assert!(names.contains(&"add_memory".to_string()), "{names:?}");
    let added = client
        .ok(
            "add_memory",
            json!({"content": "the bridge forwards tool calls"}),
        )
        .await;
    assert_eq!(added["scope"]["project_id"], "desk");
    assert_eq!(added["scope"]["user_id"], "alice");
    let found = client
        .ok("search_memories", json!({"query": "bridge forwards"}))
        .await;
    assert_eq!(found["results"].as_array().unwrap().len(), 1);
    let message = client
        .err(
            "get_memory",
            json!({"id": "00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert!(!message.is_empty());
    client.shutdown().await;
    // The memory is on the server, in the project the bridge derived.
    let direct = HttpClient::new(&server.url())
        .signed_in(&token, "alice")
        .with("X-MCP-Project", "desk");
    assert_eq!(direct.ok("list_memories", json!({})).await["total"], 1);
    assert!(!env.server_logs().contains(&token), "a token is in a log");
}

/// In `auto` mode the bridge derives the project as a local server does: from the first root
/// of a client that declares roots, else from the working directory, and the server files the
/// memories under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_derives_the_project_from_the_client_roots() {
    use crate::roots::{WorkspaceClient, fake_checkout};
    let env = TestDb::migrated(Backend::Postgres);
    let server = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    let tmp = env.data_dir();
    let repo = tmp.join("my checkout");
    fake_checkout(&repo, "git@github.com:acme/widgets.git");
    let elsewhere = tmp.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let uri = format!("file://{}", repo.join("src/deep").display()).replace(' ', "%20");

    let mut seen = Vec::new();
    for root_uri in [Some(uri), None] {
        let mut cmd = bridge_command(&env, &server.url(), &token, &[]);
        cmd.current_dir(&elsewhere);
        let client = McpClient::start_with(
            WorkspaceClient { root_uri },
            cmd,
            env.log_path("bridge-roots"),
        )
        .await;
        let added = client
            .ok(
                "add_memory",
                json!({"content": "filed under the derived project"}),
            )
            .await;
        let project = added["scope"]["project_id"].as_str().unwrap().to_string();
        let status = client.ok("memory_status", Value::Null).await;
        assert_eq!(status["project_id"], project.as_str());
        client.shutdown().await;
        let direct = HttpClient::new(&server.url())
            .signed_in(&token, "alice")
            .with("X-MCP-Project", &project);
        assert_eq!(direct.ok("list_memories", json!({})).await["total"], 1);
        seen.push(project);
    }
    assert!(seen[0].starts_with("widgets-"), "from the root: {seen:?}");
    assert!(
        seen[1].starts_with("elsewhere-"),
        "from the working directory: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_checks_the_token_at_startup() {
    let env = TestDb::migrated(Backend::Sqlite);
    let server = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    let run = |cmd: std::process::Command| {
        crate::support::binary::run(cmd, None, Duration::from_secs(60))
    };
    let refused = run(bridge_command(
        &env,
        &server.url(),
        &format!("mcp_{}", "C".repeat(43)),
        &[],
    ));
    refused.fails_with(3, "(invalid token)");
    let mismatch = run(bridge_command(
        &env,
        &server.url(),
        &token,
        &[("MEM0_USER_ID", "bob")],
    ));
    mismatch.fails_with(3, "(user id mismatch)");
    let port = crate::support::system::free_port();
    let unreachable = run(bridge_command(
        &env,
        &format!("http://127.0.0.1:{port}/mcp/"),
        &token,
        &[],
    ));
    unreachable.fails_with(4, "cannot be reached");
    assert!(!unreachable.all_output().contains(&token));
    let not_a_server = run(bridge_command(
        &env,
        &server.at("/nothing-here"),
        &token,
        &[],
    ));
    not_a_server.fails_with(4, "HTTP 404");
}

#[test]
fn client_config_connects_clients_to_a_team_server() {
    let env = TestDb::new(Backend::Sqlite);
    let url = "https://mem0.example.com/mcp/";
    let token = format!("mcp_{}", "D".repeat(43));
    let with_token = [("MEM0_USER_ID", "alice"), ("MEM0_TOKEN", token.as_str())];
    let code = env.run(
        &["client-config", "--client", "claude-code", "--server", url],
        &with_token,
    );
    code.ok();
    assert_eq!(
        code.stdout.trim(),
        "claude mcp add --transport http --scope user 'mem0' 'https://mem0.example.com/mcp/' -H 'X-MCP-Token: ${MEM0_TOKEN}' -H 'X-MCP-UserID: alice'"
    );
    // VS Code: written with its token prompt, twice without duplicating it.
    let path = env.data_dir().join("mcp.json");
    let path_text = path.display().to_string();
    for _ in 0..2 {
        env.run(
            &[
                "client-config",
                "--client",
                "vscode",
                "--server",
                url,
                "--write",
                "--path",
                &path_text,
            ],
            &with_token,
        )
        .ok();
    }
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!written.contains(&token), "the token is pasted: {written}");
    let value: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["servers"]["mem0"]["type"], "http");
    assert_eq!(value["servers"]["mem0"]["url"], url);
    assert_eq!(
        value["servers"]["mem0"]["headers"]["X-MCP-Token"],
        "${input:mem0-token}"
    );
    assert_eq!(value["inputs"].as_array().unwrap().len(), 1, "{written}");
    // Claude Desktop: the bridge, without database settings.
    let desktop = env.run(
        &[
            "client-config",
            "--client",
            "claude-desktop",
            "--server",
            url,
        ],
        &[("MEM0_USER_ID", "alice")],
    );
    desktop.ok();
    let entry = &desktop.json()["mcpServers"]["mem0"];
    assert_eq!(entry["env"]["MEM0_SERVER_URL"], url);
    assert!(entry["env"].get("MEM0_DATA_DIR").is_none(), "{entry}");
    env.run(
        &[
            "client-config",
            "--client",
            "cursor",
            "--server",
            "mem0.example.com",
        ],
        &[],
    )
    .fails_with(2, "not an http:// or https:// URL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_the_team_server() {
    let env = TestDb::migrated(Backend::Sqlite);
    let server = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    let url = server.url();
    let check = |token: &str| {
        let run = env.run(
            &["doctor", "--json"],
            &[
                ("MEM0_SERVER_URL", url.as_str()),
                ("MEM0_TOKEN", token),
                ("MEM0_USER_ID", "alice"),
            ],
        );
        let checks = run.json()["checks"].as_array().unwrap().clone();
        let find = |name: &str| checks.iter().find(|c| c["name"] == name).cloned();
        (
            find("team server"),
            find("team server token"),
            find("clock"),
        )
    };
    let (health, accepted, clock) = check(&token);
    let health = health.expect("a team server check");
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(
        health["warning"], true,
        "plain http is worth a warning: {health}"
    );
    assert_eq!(accepted.expect("a token check")["ok"], true);
    assert_eq!(clock.expect("a clock check")["ok"], true);
    let (_, refused, _) = check(&format!("mcp_{}", "E".repeat(43)));
    let refused = refused.expect("a token check");
    assert_eq!(refused["ok"], false);
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("(invalid token)"),
        "{refused}"
    );
}

/// HAProxy from Debian in front of replicas, round robin; it adds the token to every request
/// (for clients that cannot send headers) and names the replica that answered in
/// `X-Replica`. Killed when dropped.
struct Balancer {
    child: std::process::Child,
    port: u16,
}

impl Balancer {
    fn start(env: &TestDb, replicas: &[&HttpServer], token: &str) -> Balancer {
        let haproxy = crate::support::system::require_program("haproxy", "haproxy");
        let port = crate::support::system::free_port();
        let mut config = format!(
            "global\n  log stderr format short local0 warning\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend mem0\n  bind 127.0.0.1:{port}\n  http-request set-header X-MCP-Token {token}\n  http-response set-header X-Replica %s\n  default_backend replicas\nbackend replicas\n  balance roundrobin\n"
        );
        for (i, replica) in replicas.iter().enumerate() {
            config.push_str(&format!("  server r{i} 127.0.0.1:{}\n", replica.port));
        }
        let path = env.data_dir().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let log = std::fs::File::create(env.log_path("haproxy")).unwrap();
        let child = std::process::Command::new(haproxy)
            .arg("-f")
            .arg(&path)
            .arg("-db")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start haproxy");
        assert!(
            crate::support::system::wait_for_port(port, Duration::from_secs(10)),
            "haproxy did not listen"
        );
        Balancer { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp/", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_in_front_of_two_replicas() {
    let env = TestDb::migrated(Backend::Postgres);
    let one = HttpServer::start(&env, &[]);
    let two = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    let balancer = Balancer::start(&env, &[&one, &two], &token);
    // The client sends no token: the balancer adds it.
    let client = HttpClient::new(&balancer.url()).with("X-MCP-Project", "lb");
    let mut replicas = Vec::new();
    let mut answers = Vec::new();
    let added = client
        .request("tools/call", json!({"name": "add_memory", "arguments": {"content": "the balancer alternates replicas"}}))
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    replicas.push(added.header("x-replica"));
    for _ in 0..4 {
        let reply = client
            .request(
                "tools/call",
                json!({"name": "search_memories", "arguments": {"query": "balancer"}}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        replicas.push(reply.header("x-replica"));
        answers.push(reply.body["result"]["structuredContent"].clone());
    }
    assert_eq!(replicas, ["r0", "r1", "r0", "r1", "r0"], "round robin");
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    assert_eq!(answers[0]["results"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_conformance_suite_generic_server_scenarios() {
    let env = TestDb::migrated(Backend::Postgres);
    let one = HttpServer::start(&env, &[]);
    let two = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    // The suite's client cannot send headers: the balancer adds the token.
    let balancer = Balancer::start(&env, &[&one, &two], &token);
    let npx = crate::support::system::require_program("npx", "npm");
    for scenario in [
        "server-initialize",
        "ping",
        "tools-list",
        "dns-rebinding-protection",
        "http-header-validation",
        "server-session-lifecycle",
    ] {
        let out = std::process::Command::new(&npx)
            .args([
                "-y",
                "-p",
                "node@22",
                "-p",
                "@modelcontextprotocol/conformance@0.2.0-alpha.12",
                "--",
                "conformance",
                "server",
            ])
            .args(["--url", &balancer.url(), "--scenario", scenario])
            .env("NO_COLOR", "1")
            .output()
            .expect("npx");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let passed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("Passed: "))
            .unwrap_or_else(|| {
                panic!(
                    "{scenario}: no result\n{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let (counts, rest) = passed.split_once(',').unwrap();
        let (ok, all) = counts.split_once('/').unwrap();
        assert_eq!(ok, all, "{scenario}: {stdout}");
        assert!(
            rest.trim_start().starts_with("0 failed"),
            "{scenario}: {stdout}"
        );
        assert!(out.status.success(), "{scenario}: {stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_tokens_over_http() {
    const SECRET: &str = "test-jwt-secret-7f3a9c1e5b2d8f4a6c0e9b7d";
    let env = TestDb::migrated(Backend::Postgres);
    let server = HttpServer::start(&env, &[("MEM0_JWT_SECRET", SECRET)]);
    let parent = env.create_token("alice", &[]);
    let mint = |extra: &[&str]| {
        let mut args = vec!["token", "mint", "--ttl", "10m"];
        args.extend_from_slice(extra);
        let run = env.run_secret(
            &args,
            &[
                ("MEM0_TOKEN", parent.as_str()),
                ("MEM0_USER_ID", "alice"),
                ("MEM0_JWT_SECRET", SECRET),
            ],
        );
        run.ok();
        run.stdout.trim().to_string()
    };
    let jwt = mint(&["--read-only"]);
    let client = HttpClient::new(&server.url())
        .bearer(&jwt)
        .with("X-MCP-Project", "widgets");
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(status["user_id"], "alice");
    assert_eq!(status["permissions"], json!(["read"]));
    assert!(
        !client
            .tool_names()
            .await
            .contains(&"add_memory".to_string())
    );
    // A minted token limited to one project works there, whatever the header says.
    let limited = mint(&["--project", "gadgets"]);
    let client = HttpClient::new(&server.url())
        .bearer(&limited)
        .with("X-MCP-Project", "widgets");
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(status["project_id"], "gadgets");
    assert_eq!(status["mode"], "manual");
    // Revoking the parent ends its minted tokens too.
    env.run(&["token", "revoke", &display_id(&parent), "--yes"], &[])
        .ok();
    let fresh = HttpClient::new(&server.url())
        .bearer(&jwt)
        .with("X-MCP-UserID", "alice");
    refused(&fresh, 401, "(disabled token)").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_from_pem_files_and_a_bridge_trusting_a_private_ca() {
    let env = TestDb::migrated(Backend::Sqlite);
    let certs = env.data_dir().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    crate::support::cluster::make_certs(&certs);
    let at = |name: &str| certs.join(name).display().to_string();
    let server = HttpServer::start(
        &env,
        &[
            ("MEM0_HTTP_TLS_CERT", &at("server.crt")),
            ("MEM0_HTTP_TLS_KEY", &at("server.key")),
        ],
    );
    let token = env.create_token("alice", &[]);
    let url = format!("https://localhost:{}/mcp/", server.port);
    let ca = at("ca.crt");
    let cmd = bridge_command(
        &env,
        &url,
        &token,
        &[
            ("MEM0_SERVER_CA", &ca),
            ("PROJECT_ID_MODE", "manual"),
            ("PROJECT_ID", "tls"),
        ],
    );
    let client = McpClient::start(cmd, env.log_path("bridge")).await;
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(status["project_id"], "tls");
    client.shutdown().await;
    // Without the private CA the certificate is not trusted: the server cannot be reached.
    let untrusted = crate::support::binary::run(
        bridge_command(&env, &url, &token, &[]),
        None,
        Duration::from_secs(60),
    );
    untrusted.fails_with(4, "cannot be reached");
    // doctor sees verified TLS.
    let run = env.run(
        &["doctor", "--json"],
        &[
            ("MEM0_SERVER_URL", url.as_str()),
            ("MEM0_TOKEN", token.as_str()),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_SERVER_CA", ca.as_str()),
        ],
    );
    let checks = run.json()["checks"].as_array().unwrap().clone();
    let health = checks.iter().find(|c| c["name"] == "team server").unwrap();
    assert!(
        health["detail"]
            .as_str()
            .unwrap()
            .contains("TLS certificate verified"),
        "{health}"
    );
    assert_eq!(health["warning"], false, "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_joins_a_team_server() {
    let env = TestDb::migrated(Backend::Sqlite);
    let server = HttpServer::start(&env, &[]);
    let token = env.create_token("alice", &[]);
    let url = server.url();
    let init = |token: &str| {
        let cmd = env.command(
            &[
                "init",
                "--yes",
                "--server",
                &url,
                "--token-stdin",
                "--user-id",
                "alice",
                "--secrets",
                "file",
                "--client",
                "vscode",
                "--client",
                "claude-desktop",
            ],
            &[],
        );
        crate::support::binary::run(cmd, Some(token.as_bytes()), Duration::from_secs(60))
    };
    // A token the server refuses: nothing is written.
    init(&format!("mcp_{}", "F".repeat(43))).fails_with(3, "(invalid token)");
    let vscode = env.home().join(".config/Code/User/mcp.json");
    assert!(!vscode.exists());
    let done = init(&token);
    done.ok();
    assert!(!done.all_output().contains(&token), "the token is printed");
    let written = std::fs::read_to_string(&vscode).unwrap();
    assert!(!written.contains(&token));
    let value: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["servers"]["mem0"]["url"], url.as_str());
    assert_eq!(value["inputs"][0]["id"], "mem0-token");
    let desktop: Value = serde_json::from_str(
        &std::fs::read_to_string(env.home().join(".config/Claude/claude_desktop_config.json"))
            .unwrap(),
    )
    .unwrap();
    let entry = desktop["mcpServers"]["mem0"].clone();
    assert_eq!(entry["env"]["MEM0_SERVER_URL"], url.as_str());
    let token_file = entry["env"]["MEM0_TOKEN_FILE"]
        .as_str()
        .expect("the token by file")
        .to_string();
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), token);
    // The bridge Claude Desktop would start works with exactly that entry.
    let mut cmd = std::process::Command::new(crate::support::BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", env.home());
    for (k, v) in entry["env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    let client = McpClient::start(cmd, env.log_path("bridge")).await;
    assert_eq!(
        client.ok("memory_status", json!({})).await["user_id"],
        "alice"
    );
    client.shutdown().await;
}
