//! Authentication end to end, on PostgreSQL and the embedded SQLite database: startup
//! validation, permissions, minted tokens, revocation of a running server, every `token`
//! subcommand, the audit log, and a scan proving no token or JWT secret leaks anywhere.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{BIN, Backend, McpClient, TestDb};

/// A JWT secret for the tests (at least 32 bytes).
const JWT_SECRET: &str = "test-jwt-secret-7f3a9c1e5b2d8f4a6c0e9b7d";

const MANUAL: [(&str, &str); 2] = [("PROJECT_ID_MODE", "manual"), ("PROJECT_ID", "p")];

on_both_backends!(
    startup_validation,
    read_only_token,
    token_commands,
    no_secret_leaks,
);

/// The display id of a token.
fn display_id(token: &str) -> String {
    token[..12].to_string()
}

/// `token mint` with the parent token; returns the run (stdout: the JWT).
fn mint(env: &TestDb, parent: &str, user: &str, args: &[&str]) -> crate::support::Finished {
    let mut all = vec!["token", "mint"];
    all.extend_from_slice(args);
    env.run_secret(
        &all,
        &[
            ("MEM0_TOKEN", parent),
            ("MEM0_USER_ID", user),
            ("MEM0_JWT_SECRET", JWT_SECRET),
        ],
    )
}

fn with<'a>(base: &[(&'a str, &'a str)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(more).copied().collect()
}

fn names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

async fn audit_rows(env: &TestDb, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["token", "audit", "--json"];
    args.extend_from_slice(extra);
    env.run(&args, &[]).ok().json().as_array().unwrap().clone()
}

fn has_row(rows: &[Value], event: &str, token: Option<&str>, message: &str) -> bool {
    rows.iter().any(|r| {
        r["event_type"] == event
            && token.is_none_or(|t| r["token_prefix"] == t)
            && r["error_message"]
                .as_str()
                .unwrap_or_default()
                .contains(message)
    })
}

// ---------------------------------------------------------------------------------------------
// Startup validation

async fn startup_validation(backend: Backend) {
    let env = TestDb::migrated(backend);
    let serve = |envs: &[(&str, &str)]| env.run(&["serve"], &with(&MANUAL, envs));

    // Missing credentials.
    match backend {
        Backend::Postgres => {
            serve(&[]).fails_with(3, "(missing token)");
            serve(&[("MEM0_USER_ID", "alice")]).fails_with(3, "MEM0_TOKEN is not set");
        }
        Backend::Sqlite => {
            // The owner of the embedded file needs no token.
            let client = env.serve(&with(&MANUAL, &[("MEM0_USER_ID", "solo")])).await;
            let status = client.ok("memory_status", json!({})).await;
            assert_eq!(status["user_id"], "solo");
            assert_eq!(names(&status["permissions"]), ["read", "write", "admin"]);
            client.shutdown().await;
        }
    }
    let token = env.create_token("alice", &["--name", "Alice"]);
    let id = display_id(&token);
    serve(&[("MEM0_TOKEN", &token)]).fails_with(3, "(missing user id)");

    // Invalid tokens: well-formed but unknown, and not a token at all.
    let unknown = format!("mcp_{}", "A".repeat(43));
    serve(&[("MEM0_TOKEN", &unknown), ("MEM0_USER_ID", "alice")]).fails_with(3, "(invalid token)");
    serve(&[("MEM0_TOKEN", "hunter2"), ("MEM0_USER_ID", "alice")]).fails_with(3, "(invalid token)");
    serve(&[("MEM0_TOKEN", &token[..30]), ("MEM0_USER_ID", "alice")])
        .fails_with(3, "not copied completely");

    // A token of another user.
    serve(&[("MEM0_TOKEN", &token), ("MEM0_USER_ID", "bob")]).fails_with(3, "(user id mismatch)");

    // Valid.
    let valid = [("MEM0_TOKEN", token.as_str()), ("MEM0_USER_ID", "alice")];
    let client = env.serve(&with(&MANUAL, &valid)).await;
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(status["user_id"], "alice");
    assert_eq!(names(&status["permissions"]), ["read", "write"]);
    // Memory history names the token that acted.
    let added = client
        .ok("add_memory", json!({"content": "alice uses pnpm"}))
        .await;
    let memory_id = added["memory"]["id"].as_str().unwrap().to_string();
    let history = client.ok("memory_history", json!({"id": memory_id})).await;
    assert_eq!(history["events"][0]["actor"], "alice");
    assert_eq!(history["events"][0]["actor_token"], id.as_str());
    client.shutdown().await;
    let last_used = env
        .query_text(&format!(
            "SELECT CAST(last_used_at AS TEXT) FROM mcp_auth_tokens WHERE token_prefix = '{id}'"
        ))
        .await;
    assert!(last_used.is_some(), "last_used_at is set after a success");

    // Revoked, then re-enabled.
    env.run(&["token", "revoke", &id, "--yes"], &[]).ok();
    serve(&valid).fails_with(3, "(disabled token)");
    env.run(&["token", "enable", &id], &[]).ok();
    let client = env.serve(&with(&MANUAL, &valid)).await;
    client.ok("memory_status", json!({})).await;
    client.shutdown().await;

    // Expired.
    env.execute(&env.expire_sql(&id)).await;
    serve(&valid).fails_with(3, "(expired token)");

    // Every attempt is in the audit log, with the reason and the display id only.
    let rows = audit_rows(&env, &[]).await;
    assert!(has_row(&rows, "success", Some(&id), ""), "{rows:#?}");
    for (token, reason) in [
        (None, "missing user id"),
        (Some(display_id(&unknown)), "no such token"),
        (None, "malformed token"),
        (
            Some(id.clone()),
            "user id mismatch: the token belongs to alice",
        ),
        (Some(id.clone()), "token disabled"),
        (Some(id.clone()), "token expired"),
    ] {
        assert!(
            has_row(&rows, "auth_failed", token.as_deref(), reason),
            "{reason}: {rows:#?}"
        );
    }
    if backend == Backend::Postgres {
        assert!(has_row(&rows, "auth_failed", None, "missing token"));
    }
    let mismatch = rows
        .iter()
        .find(|r| {
            r["error_message"]
                .as_str()
                .unwrap_or("")
                .contains("mismatch")
        })
        .unwrap();
    assert_eq!(mismatch["user_id"], "bob", "the claimed user is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_the_auth_migration_exits_4() {
    let env = TestDb::migrated(Backend::Postgres);
    env.execute(
        "DROP TABLE mcp_auth_audit_log; DROP TABLE mcp_auth_tokens;
         DELETE FROM mem0_schema_migrations WHERE version = 20261124000001",
    )
    .await;
    env.run(&["serve"], &MANUAL)
        .fails_with(4, "mem0-mcp migrate");
    env.run(&["token", "list"], &[])
        .fails_with(4, "mem0-mcp migrate");
}

// ---------------------------------------------------------------------------------------------
// Permissions

const WRITE_TOOLS: [&str; 4] = [
    "add_memory",
    "update_memory",
    "delete_memory",
    "delete_all_memories",
];

async fn read_only_token(backend: Backend) {
    let env = TestDb::migrated(backend);
    let token = env.create_token("reader", &["--permissions", "read"]);
    let client = env
        .serve(&with(
            &MANUAL,
            &[("MEM0_TOKEN", &token), ("MEM0_USER_ID", "reader")],
        ))
        .await;
    let tools = client.tool_names().await;
    for tool in WRITE_TOOLS {
        assert!(!tools.contains(&tool.to_string()), "{tool} is offered");
    }
    assert!(tools.contains(&"search_memories".to_string()));
    for (tool, args) in [
        ("add_memory", json!({"content": "x"})),
        ("add_coding_preference", json!({"text": "x"})),
        ("delete_all_memories", json!({"confirm": true})),
    ] {
        let message = client.err(tool, args).await;
        assert!(message.contains("write permission"), "{tool}: {message}");
    }
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(names(&status["permissions"]), ["read"]);
    client.ok("list_memories", json!({})).await;
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_governs_others_memories_in_global_mode() {
    let env = TestDb::migrated(Backend::Postgres);
    let global = [("PROJECT_ID_MODE", "global")];
    let alice = env.create_token("alice", &[]);
    let bob = env.create_token("bob", &[]);
    let carol = env.create_token("carol", &["--permissions", "read,write,admin"]);
    let a = with(
        &global,
        &[("MEM0_TOKEN", &alice), ("MEM0_USER_ID", "alice")],
    );
    let client = env.serve(&a).await;
    let added = client
        .ok(
            "add_memory",
            json!({"content": "deploys go through fly.io"}),
        )
        .await;
    let id = added["memory"]["id"].as_str().unwrap().to_string();
    client.shutdown().await;

    let b = with(&global, &[("MEM0_TOKEN", &bob), ("MEM0_USER_ID", "bob")]);
    let client = env.serve(&b).await;
    let found = client.ok("get_memory", json!({"id": id})).await;
    assert_eq!(found["memory"]["user_id"], "alice");
    for (tool, args) in [
        (
            "update_memory",
            json!({"id": id, "content": "bob was here"}),
        ),
        ("delete_memory", json!({"id": id})),
    ] {
        let message = client.err(tool, args).await;
        assert!(message.contains("admin permission"), "{tool}: {message}");
    }
    // Without admin, a bulk delete in the shared pool only reaches one's own memories.
    let deleted = client
        .ok("delete_all_memories", json!({"confirm": true}))
        .await;
    assert_eq!(deleted["deleted"], 0);
    client.shutdown().await;

    let c = with(
        &global,
        &[("MEM0_TOKEN", &carol), ("MEM0_USER_ID", "carol")],
    );
    let client = env.serve(&c).await;
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(names(&status["permissions"]), ["read", "write", "admin"]);
    client
        .ok(
            "update_memory",
            json!({"id": id, "content": "deploys go through fly.io (admin)"}),
        )
        .await;
    let history = client.ok("memory_history", json!({"id": id})).await;
    let events = history["events"].as_array().unwrap();
    assert_eq!(events[0]["actor_token"], display_id(&alice).as_str());
    assert_eq!(events[1]["actor"], "carol");
    assert_eq!(events[1]["actor_token"], display_id(&carol).as_str());
    let deleted = client
        .ok("delete_all_memories", json!({"confirm": true}))
        .await;
    assert_eq!(deleted["deleted"], 1);
    client.shutdown().await;

    let rows = audit_rows(&env, &[]).await;
    assert!(
        has_row(
            &rows,
            "bulk_delete",
            Some(&display_id(&carol)),
            "deleted 1 memory in project global"
        ),
        "{rows:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Minted tokens

/// A JWT signed here, with claims the CLI would never produce (e.g. already expired).
async fn forge(env: &TestDb, parent: &str, exp_offset: i64) -> String {
    use mem0_mcp::auth::jwt::{self, Claims, JwtKey};
    use mem0_mcp::settings::Secret;
    use mem0_mcp::store::TokenHash;
    let parent_id = env
        .query_text(&format!(
            "SELECT public_id FROM mcp_auth_tokens WHERE token_prefix = '{}'",
            display_id(parent)
        ))
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: "alice".into(),
        exp: now + exp_offset,
        iat: now - 3600,
        jti: uuid::Uuid::new_v4().to_string(),
        parent: parent_id,
        perms: vec!["read".into()],
        project: None,
    };
    let key = JwtKey::new(Some(&Secret::new(JWT_SECRET))).unwrap();
    jwt::mint(&key.for_parent(&TokenHash::of(parent)), &claims).unwrap()
}

fn jwt_env<'a>(jwt: &'a str, user: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    with(
        &MANUAL,
        &[
            ("MEM0_TOKEN", jwt),
            ("MEM0_USER_ID", user),
            ("MEM0_JWT_SECRET", secret),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_tokens_postgres() {
    let env = TestDb::migrated(Backend::Postgres);
    let parent = env.create_token("alice", &["--permissions", "read,write,admin"]);
    let parent_id = display_id(&parent);

    // Refusals at minting.
    env.run_secret(
        &["token", "mint", "--ttl", "1h"],
        &[
            ("MEM0_TOKEN", &parent),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", "short"),
        ],
    )
    .fails_with(2, "it must be at least 32");
    env.run_secret(
        &["token", "mint", "--ttl", "1h"],
        &[("MEM0_TOKEN", &parent), ("MEM0_USER_ID", "alice")],
    )
    .fails_with(2, "MEM0_JWT_SECRET");
    for bad in ["5w", "1.5h", "31d", "10"] {
        mint(&env, &parent, "alice", &["--ttl", bad]).fails_with(2, "--ttl");
    }
    mint(&env, &parent, "bob", &["--ttl", "1h"]).fails_with(3, "(user id mismatch)");

    // Valid: read-only, limited to one project, whatever the server's own mode.
    let run = mint(
        &env,
        &parent,
        "alice",
        &["--ttl", "1h", "--read-only", "--project", "widgets"],
    );
    run.ok();
    assert_eq!(run.stdout.lines().count(), 1, "one line: {:?}", run.stdout);
    let read_only = run.stdout.trim().to_string();
    assert!(run.stderr.contains("Minted jwt-"), "{}", run.stderr);
    env.run_secret(
        &["token", "mint", "--ttl", "1h"],
        &[
            ("MEM0_TOKEN", &read_only),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", JWT_SECRET),
        ],
    )
    .fails_with(3, "cannot mint further tokens");
    let auto = [
        ("MEM0_TOKEN", read_only.as_str()),
        ("MEM0_USER_ID", "alice"),
        ("MEM0_JWT_SECRET", JWT_SECRET),
    ];
    let client = env.serve(&auto).await;
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(names(&status["permissions"]), ["read"]);
    assert_eq!(status["project_id"], "widgets");
    assert_eq!(status["mode"], "manual");
    assert!(
        !client
            .tool_names()
            .await
            .contains(&"add_memory".to_string())
    );
    client.err("add_memory", json!({"content": "x"})).await;
    client.shutdown().await;
    // A project-limited token is not for the shared pool.
    env.run(
        &["serve"],
        &[
            ("PROJECT_ID_MODE", "global"),
            ("MEM0_TOKEN", &read_only),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", JWT_SECRET),
        ],
    )
    .fails_with(3, "(project limit)");

    // Default permissions: the parent's without admin; history names parent and minted token.
    let writer = mint(&env, &parent, "alice", &["--ttl", "2h"]);
    writer.ok();
    let writer = writer.stdout.trim().to_string();
    let client = env.serve(&jwt_env(&writer, "alice", JWT_SECRET)).await;
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(names(&status["permissions"]), ["read", "write"]);
    let added = client
        .ok("add_memory", json!({"content": "ci caches ~/.cargo"}))
        .await;
    let history = client
        .ok("memory_history", json!({"id": added["memory"]["id"]}))
        .await;
    let actor = history["events"][0]["actor_token"].as_str().unwrap();
    assert!(actor.starts_with(&format!("{parent_id}/jwt-")), "{actor}");
    client.shutdown().await;

    // Wrong secret, tampered, wrong user, expired.
    let other_secret = "another-secret-that-is-long-enough-1234";
    env.run(&["serve"], &jwt_env(&writer, "alice", other_secret))
        .fails_with(3, "signature");
    let mut parts: Vec<String> = writer.split('.').map(String::from).collect();
    let payload = &mut parts[1];
    let flipped = if payload.ends_with('A') { 'B' } else { 'A' };
    payload.pop();
    payload.push(flipped);
    let tampered = parts.join(".");
    env.run(&["serve"], &jwt_env(&tampered, "alice", JWT_SECRET))
        .fails_with(3, "(invalid token)");
    env.run(&["serve"], &jwt_env(&writer, "bob", JWT_SECRET))
        .fails_with(3, "(user id mismatch)");
    let expired = forge(&env, &parent, -60).await;
    env.run(&["serve"], &jwt_env(&expired, "alice", JWT_SECRET))
        .fails_with(3, "(expired token)");
    env.run(&["serve"], &jwt_env(&writer, "alice", ""))
        .fails_with(3, "MEM0_JWT_SECRET");

    // It dies with its parent.
    env.run(&["token", "revoke", &parent_id, "--yes"], &[]).ok();
    env.run(&["serve"], &jwt_env(&writer, "alice", JWT_SECRET))
        .fails_with(3, "dies with its parent");

    let rows = audit_rows(&env, &[]).await;
    assert!(has_row(
        &rows,
        "token_minted",
        Some(&parent_id),
        "project widgets"
    ));
    assert!(has_row(&rows, "auth_failed", None, "minted token expired"));
    assert!(has_row(&rows, "auth_failed", None, "has been revoked"));
    assert!(
        rows.iter().any(|r| r["event_type"] == "success"
            && r["token_prefix"].as_str().unwrap_or("").contains("/jwt-")),
        "{rows:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_token_sqlite() {
    let env = TestDb::migrated(Backend::Sqlite);
    let parent = env.create_token("alice", &[]);
    let run = mint(&env, &parent, "alice", &["--ttl", "15m", "--read-only"]);
    run.ok();
    let jwt = run.stdout.trim().to_string();
    let client = env.serve(&jwt_env(&jwt, "alice", JWT_SECRET)).await;
    let status = client.ok("memory_status", json!({})).await;
    assert_eq!(names(&status["permissions"]), ["read"]);
    assert_eq!(status["user_id"], "alice");
    client.shutdown().await;
    env.run(
        &["serve"],
        &jwt_env(&jwt, "alice", "another-secret-that-is-long-enough-1234"),
    )
    .fails_with(3, "(invalid token)");
}

// ---------------------------------------------------------------------------------------------
// Revocation of a running server

/// Polls a tool call until it fails with `needle` (the bound is a ceiling, not a measurement).
async fn until_refused(client: &McpClient, needle: &str, within: Duration) -> String {
    let start = Instant::now();
    loop {
        let (_, is_error, message) = client.call("memory_status", json!({})).await;
        if is_error {
            assert!(message.contains(needle), "{message}");
            return message;
        }
        assert!(
            start.elapsed() < within,
            "still served {within:?} after the change"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn revocation_reaches_running_server(backend: Backend, verb: &str, needle: &str) {
    let env = TestDb::migrated(backend);
    let token = env.create_token("alice", &[]);
    let client = env
        .serve(&with(
            &MANUAL,
            &[
                ("MEM0_TOKEN", &token),
                ("MEM0_USER_ID", "alice"),
                ("MEM0_AUTH_RECHECK_SECS", "1"),
            ],
        ))
        .await;
    client.ok("memory_status", json!({})).await;
    env.run(&["token", verb, &display_id(&token), "--yes"], &[])
        .ok();
    let message = until_refused(&client, needle, Duration::from_secs(10)).await;
    assert!(message.contains("restart the client"), "{message}");
    assert!(message.contains(&display_id(&token)), "{message}");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_stops_a_running_server_postgres() {
    revocation_reaches_running_server(Backend::Postgres, "revoke", "was revoked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_stops_a_running_server_sqlite() {
    revocation_reaches_running_server(Backend::Sqlite, "delete", "was deleted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minted_token_expires_while_serving() {
    let env = TestDb::migrated(Backend::Postgres);
    let parent = env.create_token("alice", &[]);
    let run = mint(&env, &parent, "alice", &["--ttl", "20s"]);
    run.ok();
    let jwt = run.stdout.trim().to_string();
    let client = env.serve(&jwt_env(&jwt, "alice", JWT_SECRET)).await;
    until_refused(&client, "expired at", Duration::from_secs(60)).await;
    client.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The token command

async fn token_commands(backend: Backend) {
    let env = TestDb::migrated(backend);

    // create: the token once, export lines, three client configurations.
    let run = env.run_secret(
        &[
            "token",
            "create",
            "--user-id",
            "alice@example.com",
            "--name",
            "Alice Doe",
            "--email",
            "alice@example.com",
            "--created-by",
            "ops",
        ],
        &[],
    );
    run.ok();
    let token = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Token:"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(token.len(), 47);
    assert!(token.starts_with("mcp_"));
    let id = display_id(&token);
    for needle in [
        format!("export MEM0_TOKEN='{token}'"),
        "export MEM0_USER_ID='alice@example.com'".to_string(),
        "\"mcpServers\"".to_string(),
        "\"servers\"".to_string(),
        "\"type\": \"stdio\"".to_string(),
        "\"PROJECT_DIR\": \"${workspaceFolder}\"".to_string(),
        format!("claude mcp add mem0 -e MEM0_TOKEN='{token}' -e MEM0_USER_ID='alice@example.com'"),
        format!("\"command\": \"{}\"", BIN),
    ] {
        assert!(run.stdout.contains(&needle), "{needle}:\n{}", run.stdout);
    }
    assert_eq!(run.stdout.matches(&token).count(), 5, "{}", run.stdout);
    assert!(run.stderr.contains("only time the token is shown"));

    // Bad input changes nothing.
    for (args, needle) in [
        (vec!["--permissions", "write"], "without read"),
        (
            vec!["--permissions", "read,root"],
            "'root' is not a permission",
        ),
        (vec!["--email", "nope"], "--email"),
    ] {
        let mut all = vec!["token", "create", "--user-id", "x"];
        all.extend(args);
        env.run(&all, &[]).fails_with(2, needle);
    }
    let forever = env.create_token("bob", &["--expires-days", "0", "--permissions", "read"]);

    // list: a table and JSON, display ids only.
    let table = env.run(&["token", "list"], &[]);
    table.ok();
    let header = table.stdout.lines().next().unwrap();
    for column in [
        "ID",
        "USER",
        "NAME",
        "STATUS",
        "EXPIRES",
        "LAST USED",
        "PERMISSIONS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let bob_line = table
        .stdout
        .lines()
        .find(|l| l.starts_with(&display_id(&forever)))
        .unwrap();
    assert!(bob_line.contains("never"), "{bob_line}");
    assert_eq!(
        header.find("STATUS"),
        bob_line.find("enabled"),
        "columns are aligned:\n{}",
        table.stdout
    );
    let list = env.run(&["token", "list", "--json"], &[]).ok().json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let alice = list.iter().find(|t| t["id"] == id.as_str()).unwrap();
    for field in [
        "id",
        "user_id",
        "name",
        "email",
        "status",
        "expires_at",
        "last_used_at",
        "created_at",
        "created_by",
        "permissions",
    ] {
        assert!(alice.get(field).is_some(), "{field}: {alice}");
    }
    assert_eq!(alice["status"], "enabled");
    assert_eq!(alice["created_by"], "ops");
    assert_eq!(alice["name"], "Alice Doe");
    let only_bob = env
        .run(&["token", "list", "--user-id", "bob", "--json"], &[])
        .ok()
        .json();
    assert_eq!(only_bob.as_array().unwrap().len(), 1);
    assert_eq!(only_bob[0]["expires_at"], Value::Null);

    let status_of = |env: &TestDb, display: &str| -> String {
        let list = env.run(&["token", "list", "--json"], &[]).ok().json();
        list.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["id"] == display)
            .map(|t| t["status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };

    // Destructive commands refuse without a terminal or --yes.
    env.run(&["token", "revoke", &id], &[])
        .fails_with(2, "pass --yes");
    env.run(&["token", "delete", &id], &[])
        .fails_with(2, "pass --yes");
    assert_eq!(status_of(&env, &id), "enabled");

    // revoke by full token (never echoed back), enable by display id.
    let revoked = env.run(&["token", "revoke", &token, "--yes"], &[]);
    revoked.ok();
    assert!(revoked.stdout.contains(&format!("Revoked {id}")));
    assert!(!revoked.stdout.contains(&token));
    assert_eq!(status_of(&env, &id), "disabled");
    let again = env.run(&["token", "revoke", &id, "--yes"], &[]);
    assert!(again.ok().stdout.contains("already revoked"), "{again:?}");
    env.run(&["token", "enable", &id], &[]).ok();
    assert_eq!(status_of(&env, &id), "enabled");

    // Unknown, too short, and ambiguous references change nothing.
    env.run(&["token", "revoke", "mcp_ZZZZZZZZ", "--yes"], &[])
        .fails_with(1, "no token matches mcp_ZZZZZZZZ");
    let unknown_full = format!("mcp_{}", "Q".repeat(43));
    let run = env.run(&["token", "revoke", &unknown_full, "--yes"], &[]);
    run.fails_with(1, "no token matches");
    assert!(!run.stderr.contains(&unknown_full));
    env.run(&["token", "revoke", "mcp_abc", "--yes"], &[])
        .fails_with(2, "not a token reference");
    env.run(&["token", "enable", "alice"], &[])
        .fails_with(2, "not a token reference");
    let twin = id.clone();
    env.execute(&format!(
        "INSERT INTO mcp_auth_tokens (token_hash, token_prefix, user_id, created_at, permissions)
         VALUES ('{}', '{twin}', 'mallory', '2026-01-01T00:00:00.000000Z', '[\"read\"]')",
        "0".repeat(64)
    ))
    .await;
    for verb in ["revoke", "delete"] {
        env.run(&["token", verb, &id, "--yes"], &[])
            .fails_with(2, "matches 2 tokens");
    }
    env.run(&["token", "enable", &format!("{id}xyz")], &[])
        .fails_with(2, "matches 2 tokens");
    assert_eq!(status_of(&env, &id), "enabled,enabled");
    // The full token still picks exactly one.
    env.run(&["token", "revoke", &token, "--yes"], &[]).ok();
    assert_eq!(status_of(&env, &id), "disabled,enabled");
    env.run(&["token", "delete", &token, "--yes"], &[]).ok();
    assert_eq!(status_of(&env, &id), "enabled");
    env.run(&["token", "delete", &id, "--yes"], &[]).ok();
    assert_eq!(status_of(&env, &id), "");

    // stats: tokens and authentication counts.
    let carol = env.create_token("carol", &[]);
    let carol_env = with(
        &MANUAL,
        &[("MEM0_TOKEN", &carol), ("MEM0_USER_ID", "carol")],
    );
    let client = env.serve(&carol_env).await;
    // delete_all_memories is audited with the token that acted.
    for content in ["one", "two"] {
        client.ok("add_memory", json!({"content": content})).await;
    }
    let deleted = client
        .ok("delete_all_memories", json!({"confirm": true}))
        .await;
    assert_eq!(deleted["deleted"], 2);
    client.shutdown().await;
    env.run(
        &["serve"],
        &[("MEM0_TOKEN", &carol), ("MEM0_USER_ID", "carol-typo")],
    )
    .fails_with(3, "(user id mismatch)");
    env.run(
        &["serve"],
        &[("MEM0_TOKEN", &unknown_full), ("MEM0_USER_ID", "carol")],
    )
    .fails_with(3, "(invalid token)");
    let stats = env
        .run(&["token", "stats", "carol", "--json"], &[])
        .ok()
        .json();
    assert_eq!(stats["total_tokens"], 1);
    assert_eq!(stats["active_tokens"], 1);
    assert_eq!(stats["successful_authentications"], 1);
    assert_eq!(stats["failed_authentications"], 1);
    assert!(stats["last_authentication"].is_string());
    let text = env
        .run(&["token", "stats", "carol"], &[])
        .ok()
        .stdout
        .clone();
    assert!(text.contains("1 (1 active)"), "{text}");
    assert!(text.contains("1 successful, 1 failed"), "{text}");
    let nobody = env
        .run(&["token", "stats", "nobody", "--json"], &[])
        .ok()
        .json();
    assert_eq!(nobody["total_tokens"], 0);
    assert_eq!(nobody["last_authentication"], Value::Null);

    // audit: lifecycle events name the token; filters and limits work.
    let rows = audit_rows(&env, &[]).await;
    for event in [
        "token_created",
        "token_revoked",
        "token_enabled",
        "token_deleted",
    ] {
        assert!(has_row(&rows, event, Some(&id), ""), "{event}: {rows:#?}");
    }
    assert!(has_row(
        &rows,
        "bulk_delete",
        Some(&display_id(&carol)),
        "deleted 2 memories in project p"
    ));
    let carol_rows = audit_rows(&env, &["--user-id", "carol"]).await;
    assert!(carol_rows.iter().all(|r| r["user_id"] == "carol"));
    assert_eq!(audit_rows(&env, &["--limit", "1"]).await.len(), 1);
    let table = env.run(&["token", "audit", "--days", "7"], &[]);
    table.ok();
    assert!(table.stdout.starts_with("TIME (UTC)"), "{}", table.stdout);
    assert!(table.stdout.contains("token_created"));
    // clap reports bad flag values itself, with exit code 2.
    let bad = env.run(&["token", "audit", "--days", "0"], &[]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("--days"), "{bad:?}");
}

// ---------------------------------------------------------------------------------------------
// Nothing secret anywhere

async fn no_secret_leaks(backend: Backend) {
    let env = TestDb::migrated(backend);
    let trace = [("MEM0_LOG", "trace")];
    let admin = env.create_token("alice", &["--permissions", "read,write,admin"]);
    let other = env.create_token("bob", &[]);
    let mint = env.run_secret(
        &["token", "mint", "--ttl", "1h"],
        &[
            ("MEM0_TOKEN", &admin),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", JWT_SECRET),
            ("MEM0_LOG", "trace"),
        ],
    );
    mint.ok();
    let jwt = mint.stdout.trim().to_string();

    // Successful sessions, with a token and with the minted token, at trace level.
    for session in [
        with(
            &with(&MANUAL, &trace),
            &[("MEM0_TOKEN", &admin), ("MEM0_USER_ID", "alice")],
        ),
        with(
            &with(&MANUAL, &trace),
            &jwt_env(&jwt, "alice", JWT_SECRET)[2..],
        ),
    ] {
        let client = env.serve(&session).await;
        client.ok("add_memory", json!({"content": "a fact"})).await;
        client.ok("search_memories", json!({"query": "fact"})).await;
        client.ok("memory_status", json!({})).await;
        client
            .ok("delete_all_memories", json!({"confirm": true}))
            .await;
        client.shutdown().await;
    }
    // Failing starts.
    for envs in [
        vec![("MEM0_TOKEN", admin.as_str()), ("MEM0_USER_ID", "mallory")],
        vec![("MEM0_TOKEN", admin.as_str())],
        vec![
            ("MEM0_TOKEN", jwt.as_str()),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", "a-wrong-secret-that-is-long-enough-000"),
        ],
        vec![
            ("MEM0_TOKEN", jwt.as_str()),
            ("MEM0_USER_ID", "mallory"),
            ("MEM0_JWT_SECRET", JWT_SECRET),
        ],
        vec![("MEM0_TOKEN", &admin[..40]), ("MEM0_USER_ID", "alice")],
    ] {
        let run = env.run(&["serve"], &with(&with(&MANUAL, &trace), &envs));
        assert_eq!(run.code, Some(3), "{run:?}");
    }
    // Every reporting command, at trace level.
    for args in [
        vec!["token", "list"],
        vec!["token", "list", "--json"],
        vec!["token", "audit"],
        vec!["token", "audit", "--json"],
        vec!["token", "stats", "alice"],
        vec!["token", "stats", "alice", "--json"],
        vec!["migrate", "--status"],
    ] {
        env.run(&args, &trace).ok();
    }
    env.run(&["token", "revoke", &other, "--yes"], &trace).ok();
    env.run(&["token", "enable", &other], &trace).ok();
    env.run(&["token", "delete", &other, "--yes"], &trace).ok();
    // The stderr of create and mint, which print their secret on stdout only.
    env.run_secret(&["token", "create", "--user-id", "carol"], &trace)
        .ok();

    let places = [
        ("command output", env.transcript()),
        ("server logs", env.server_logs()),
        ("database", env.dump().await),
    ];
    assert!(places[1].1.contains("TRACE"), "trace logging was on");
    let jwt_signature = jwt.rsplit('.').next().unwrap().to_string();
    for (secret_name, secret) in [
        ("token", admin.clone()),
        ("token body", admin[4..].to_string()),
        ("other token", other.clone()),
        ("other token body", other[4..].to_string()),
        ("minted token", jwt.clone()),
        ("minted token signature", jwt_signature),
        ("JWT secret", JWT_SECRET.to_string()),
    ] {
        for (place, text) in &places {
            assert!(
                !text.contains(&secret),
                "the {secret_name} appears in the {place}"
            );
        }
    }
    // The display ids are there, so the scan looked at the right things.
    assert!(places[2].1.contains(&display_id(&admin)));
    assert!(places[0].1.contains(&display_id(&admin)));
}
