//! `export` and `import` through the real binary, on both backends: a round trip into an empty
//! database restores every memory exactly (ids, timestamps, tags, metadata, expiry, history),
//! importing twice adds nothing, a dry run changes nothing, a bad line or a full scope names its
//! line and imports nothing, `--skip-invalid` imports the rest, and a mem0 dump and the
//! reference memory server's file (`tests/fixtures/server-memory.jsonl`, written by that server:
//! `scripts/server-memory-fixture.sh`) are read.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Backend, TestDb};

on_both_backends!(
    round_trip_is_exact,
    all_or_nothing,
    mem0_dump,
    server_memory_file
);

/// The settings a command needs to act as `user` in manual project `project` of `db`.
fn acting(db: &TestDb, user: &str, project: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("MEM0_USER_ID".to_string(), user.to_string()),
        ("PROJECT_ID_MODE".into(), "manual".into()),
        ("PROJECT_ID".into(), project.into()),
    ];
    if let Some(token) = db.token_for(user) {
        env.push(("MEM0_TOKEN".into(), token));
    }
    env
}

fn run(db: &TestDb, args: &[&str], env: &[(String, String)]) -> crate::support::binary::Finished {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    db.run(args, &env)
}

/// The memory lines of an export file (the header checked and left out).
fn memory_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("export file");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("a header line")).unwrap();
    assert_eq!(header["format"], "mem0-mcp-export", "{header}");
    assert_eq!(header["version"], 1, "{header}");
    lines.map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn export_all(db: &TestDb, env: &[(String, String)], path: &Path) -> Vec<Value> {
    let path_text = path.display().to_string();
    run(db, &["export", "--all-projects", "-o", &path_text], env).ok();
    memory_lines(path)
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("m0t-portable-")
        .tempdir()
        .expect("scratch dir")
}

fn file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

async fn round_trip_is_exact(backend: Backend) {
    let source = TestDb::new(backend);
    let s = source.server().manual("proj-a").start().await;
    s.ok(
        "add_memory",
        json!({"content": "Uses pnpm", "tags": ["tooling"], "metadata": {"source": "review", "n": 2}}),
    )
    .await;
    let freeze = s
        .ok(
            "add_memory",
            json!({"content": "Deploy freeze", "expires_at": "2099-01-01T10:00:00.123456Z"}),
        )
        .await;
    let changed = s.ok("add_memory", json!({"content": "Node 18"})).await;
    let changed_id = changed["memory"]["id"].as_str().unwrap().to_string();
    s.ok(
        "update_memory",
        json!({"id": changed_id, "content": "Node 20", "tags": ["runtime"]}),
    )
    .await;
    let deleted = s.ok("add_memory", json!({"content": "Short-lived"})).await;
    s.ok("delete_memory", json!({"id": deleted["memory"]["id"]}))
        .await;
    s.shutdown().await;
    let b = source.server().manual("proj-b").start().await;
    b.ok("add_memory", json!({"content": "Other project fact"}))
        .await;
    b.shutdown().await;

    let dir = scratch();
    let env = acting(&source, "alice", "proj-a");
    // The default is the scope serve would use: proj-a only.
    let one = file(&dir, "proj-a.jsonl");
    run(&source, &["export", "-o", &one.display().to_string()], &env).ok();
    let lines = memory_lines(&one);
    assert_eq!(lines.len(), 3, "{lines:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&one).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the export is readable by its owner only");
    }
    let node = lines
        .iter()
        .find(|l| l["id"] == changed_id.as_str())
        .expect("the updated memory");
    assert_eq!(node["content"], "Node 20");
    let events: Vec<&str> = node["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["ADD", "UPDATE"]);
    let frozen = lines
        .iter()
        .find(|l| l["id"] == freeze["memory"]["id"])
        .unwrap();
    assert_eq!(frozen["expires_at"], "2099-01-01T10:00:00.123456Z");
    // stdout works too, with the same lines.
    let out = run(&source, &["export"], &env);
    out.ok();
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout);

    let all = file(&dir, "all.jsonl");
    let exported = export_all(&source, &env, &all);
    assert_eq!(exported.len(), 4);

    // Into an empty database: everything comes back exactly.
    let target = TestDb::migrated(backend);
    let target_env = acting(&target, "alice", "proj-x");
    let all_text = all.display().to_string();
    let dry = run(
        &target,
        &["import", &all_text, "--dry-run", "--json"],
        &target_env,
    );
    dry.ok();
    let counts: Value = serde_json::from_str(dry.stdout.trim()).unwrap();
    assert_eq!(counts["added"], 4, "{counts}");
    assert_eq!(counts["dry_run"], true);
    assert_eq!(
        export_all(&target, &target_env, &file(&dir, "after-dry.jsonl")).len(),
        0,
        "a dry run changes nothing"
    );
    let first = run(&target, &["import", &all_text], &target_env);
    first.ok();
    assert!(
        first.stdout.contains("4 added, 0 unchanged, 0 skipped"),
        "{}",
        first.stdout
    );
    let restored = export_all(&target, &target_env, &file(&dir, "restored.jsonl"));
    assert_eq!(restored, exported, "the round trip is exact");
    let again = run(&target, &["import", &all_text, "--json"], &target_env);
    again.ok();
    let counts: Value = serde_json::from_str(again.stdout.trim()).unwrap();
    assert_eq!(
        (&counts["added"], &counts["unchanged"]),
        (&json!(0), &json!(4)),
        "importing twice adds nothing: {counts}"
    );

    // And into the other backend, just as exactly.
    let other = TestDb::migrated(match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    });
    let other_env = acting(&other, "alice", "proj-x");
    run(&other, &["import", &all_text], &other_env).ok();
    let moved_over = export_all(&other, &other_env, &file(&dir, "other.jsonl"));
    assert_eq!(
        moved_over, exported,
        "the round trip across backends is exact"
    );

    // The restored memories serve like any other.
    let t = target.server().manual("proj-a").start().await;
    let got = t.ok("get_memory", json!({"id": changed_id})).await;
    assert_eq!(got["memory"]["tags"], json!(["runtime"]));
    let history = t.ok("memory_history", json!({"id": changed_id})).await;
    assert_eq!(history["events"].as_array().unwrap().len(), 2, "{history}");
    t.shutdown().await;

    // --project puts everything in one project.
    let moved = TestDb::migrated(backend);
    let moved_env = acting(&moved, "alice", "proj-x");
    run(
        &moved,
        &["import", &all_text, "--project", "proj-z"],
        &moved_env,
    )
    .ok();
    let lines = export_all(&moved, &moved_env, &file(&dir, "moved.jsonl"));
    assert!(
        lines.iter().all(|l| l["project_id"] == "proj-z"),
        "{lines:?}"
    );

    if backend == Backend::Postgres {
        let refused = run(&source, &["export", "--all-users"], &env);
        refused.fails_with(3, "admin");
    }
}

async fn all_or_nothing(backend: Backend) {
    let source = TestDb::new(backend);
    let s = source.server().manual("proj-a").start().await;
    for i in 0..3 {
        s.ok("add_memory", json!({"content": format!("Fact {i}")}))
            .await;
    }
    s.shutdown().await;
    let dir = scratch();
    let good = file(&dir, "good.jsonl");
    export_all(&source, &acting(&source, "alice", "proj-a"), &good);
    let text = std::fs::read_to_string(&good).unwrap();

    let target = TestDb::migrated(backend);
    let env = acting(&target, "alice", "proj-a");
    let count = |path: &str| export_all(&target, &env, &file(&dir, path)).len();
    // A bad line (here line 4 of 5) names its number and nothing is imported.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, r#"{"id": "not-a-uuid", "content": "x"}"#);
    let bad = file(&dir, "bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let bad_text = bad.display().to_string();
    run(&target, &["import", &bad_text], &env).fails_with(1, "line 4");
    assert_eq!(count("e1.jsonl"), 0, "nothing imported");
    // Over a limit: content past 32 KiB.
    let huge = text
        .lines()
        .nth(1)
        .unwrap()
        .replace("\"Fact 0\"", &format!("\"{}\"", "x".repeat(33 * 1024)));
    let big = file(&dir, "big.jsonl");
    std::fs::write(&big, format!("{}\n{huge}\n", text.lines().next().unwrap())).unwrap();
    let big_text = big.display().to_string();
    run(&target, &["import", &big_text], &env).fails_with(1, "line 2");
    let skipped = run(&target, &["import", &bad_text, "--skip-invalid"], &env);
    skipped.ok();
    assert!(
        skipped.stdout.contains("3 added, 0 unchanged, 1 skipped")
            && skipped.stdout.contains("skipped line 4"),
        "{}",
        skipped.stdout
    );
    assert_eq!(count("e2.jsonl"), 3);

    // A full scope: the limit applies, and what does not fit is reported.
    let small = TestDb::migrated(backend);
    let mut small_env = acting(&small, "alice", "proj-a");
    small_env.push(("MEM0_MAX_MEMORIES_PER_CONTEXT".into(), "2".into()));
    let good_text = good.display().to_string();
    let full = run(&small, &["import", &good_text], &small_env);
    full.fails_with(1, "line 4");
    assert!(full.stderr.contains("limit is 2"), "{}", full.stderr);
    assert_eq!(
        export_all(&small, &small_env, &file(&dir, "e3.jsonl")).len(),
        0
    );
    let partial = run(
        &small,
        &["import", &good_text, "--skip-invalid"],
        &small_env,
    );
    partial.ok();
    assert!(
        partial.stdout.contains("2 added, 0 unchanged, 1 skipped"),
        "{}",
        partial.stdout
    );
    // Not our format at all.
    let junk = file(&dir, "junk.txt");
    std::fs::write(&junk, "hello\n").unwrap();
    run(&small, &["import", &junk.display().to_string()], &small_env)
        .fails_with(2, "not a mem0-mcp export header");
}

async fn mem0_dump(backend: Backend) {
    let db = TestDb::migrated(backend);
    let dir = scratch();
    let dump = file(&dir, "mem0.json");
    std::fs::write(
        &dump,
        json!({"results": [
            {"id": "7b2c1a5e-3f4d-4c6b-9a8e-1d2f3a4b5c6d", "memory": "Prefers dark mode", "hash": "x",
             "metadata": {"from": "mem0"}, "categories": ["preferences"],
             "created_at": "2024-07-20T01:47:39.521797-07:00", "updated_at": null, "user_id": "someone"},
            {"memory": "Works in Rust"},
            {"memory": ""},
            {"memory": "Works in Rust"}
        ]})
        .to_string(),
    )
    .unwrap();
    let env = acting(&db, "alice", "proj-m");
    let path = dump.display().to_string();
    run(&db, &["import", &path, "--from", "mem0"], &env).fails_with(1, "line 3");
    let done = run(
        &db,
        &[
            "import",
            &path,
            "--from",
            "mem0",
            "--skip-invalid",
            "--json",
        ],
        &env,
    );
    done.ok();
    let counts: Value = serde_json::from_str(done.stdout.trim()).unwrap();
    assert_eq!(
        (&counts["added"], &counts["skipped"]),
        (&json!(2), &json!(1)),
        "{counts}"
    );
    let s = db.server().manual("proj-m").start().await;
    let got = s
        .ok(
            "get_memory",
            json!({"id": "7b2c1a5e-3f4d-4c6b-9a8e-1d2f3a4b5c6d"}),
        )
        .await;
    assert_eq!(got["memory"]["tags"], json!(["preferences"]));
    assert_eq!(got["memory"]["metadata"], json!({"from": "mem0"}));
    assert_eq!(got["memory"]["created_at"], "2024-07-20T08:47:39.521797Z");
    assert_eq!(s.ok("memory_status", json!({})).await["count"], 2);
    s.shutdown().await;
}

async fn server_memory_file(backend: Backend) {
    let db = TestDb::migrated(backend);
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/server-memory.jsonl");
    let path = fixture.display().to_string();
    let env = acting(&db, "alice", "proj-graph");
    let args = ["import", path.as_str(), "--from", "server-memory", "--json"];
    let first = run(&db, &args, &env);
    first.ok();
    let counts: Value = serde_json::from_str(first.stdout.trim()).unwrap();
    // 3 + 1 observations, 1 entity without any, 2 relations.
    assert_eq!(
        (&counts["added"], &counts["skipped"]),
        (&json!(7), &json!(0)),
        "{counts}"
    );
    let again = run(&db, &args, &env);
    let counts: Value = serde_json::from_str(again.stdout.trim()).unwrap();
    assert_eq!(
        (&counts["added"], &counts["unchanged"]),
        (&json!(0), &json!(7)),
        "{counts}"
    );

    let s = db.server().manual("proj-graph").start().await;
    let found = s.ok("search_memories", json!({"query": "pnpm"})).await;
    let hit = &found["results"][0];
    assert_eq!(
        hit["content"], "widgets-repo: Uses pnpm, not npm",
        "{found}"
    );
    assert_eq!(hit["tags"], json!(["project"]));
    assert_eq!(hit["metadata"]["entity"], "widgets-repo");
    let relation = s.ok("search_memories", json!({"query": "maintains"})).await;
    assert_eq!(
        relation["results"][0]["content"],
        "Alice maintains widgets-repo"
    );
    let listed = s.ok("list_memories", json!({"tags": ["service"]})).await;
    assert_eq!(listed["memories"][0]["content"], "Postgres (service)");
    s.shutdown().await;

    let dir = scratch();
    let broken = file(&dir, "broken.jsonl");
    let mut text = std::fs::read_to_string(&fixture).unwrap();
    if !text.ends_with('\n') {
        text.push('\n'); // the reference server ends its file without one
    }
    text.push_str("{\"type\":\"entity\",\"name\":\"x\"}\n");
    std::fs::write(&broken, text).unwrap();
    let fresh = TestDb::migrated(backend);
    let fresh_env = acting(&fresh, "alice", "proj-graph");
    let broken_text = broken.display().to_string();
    run(
        &fresh,
        &["import", &broken_text, "--from", "server-memory"],
        &fresh_env,
    )
    .fails_with(1, "line 6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_token_keeps_to_its_project() {
    const JWT_SECRET: &str = "portable-jwt-secret-3c9e1a7f5b2d8f4a6c0e";
    let db = TestDb::new(Backend::Postgres);
    let s = db.server().manual("proj-a").start().await;
    s.ok("add_memory", json!({"content": "Project A fact"}))
        .await;
    s.shutdown().await;
    let b = db.server().manual("proj-b").start().await;
    b.ok("add_memory", json!({"content": "Project B fact"}))
        .await;
    b.shutdown().await;
    let parent = db.token_for("alice").expect("a token");
    let minted = db.run_secret(
        &["token", "mint", "--ttl", "1h", "--project", "proj-a"],
        &[
            ("MEM0_TOKEN", &parent),
            ("MEM0_USER_ID", "alice"),
            ("MEM0_JWT_SECRET", JWT_SECRET),
        ],
    );
    minted.ok();
    let jwt = minted.stdout.trim().to_string();
    let env: Vec<(String, String)> = vec![
        ("MEM0_TOKEN".into(), jwt),
        ("MEM0_USER_ID".into(), "alice".into()),
        ("MEM0_JWT_SECRET".into(), JWT_SECRET.into()),
        ("PROJECT_ID_MODE".into(), "manual".into()),
        ("PROJECT_ID".into(), "proj-b".into()),
    ];
    let own = run(&db, &["export"], &env);
    own.ok();
    assert!(own.stdout.contains("Project A fact"), "{}", own.stdout);
    assert!(!own.stdout.contains("Project B fact"), "{}", own.stdout);
    for args in [
        &["export", "--all-projects"][..],
        &["export", "--project", "proj-b"],
        &["import", "/dev/null", "--project", "proj-b"],
    ] {
        run(&db, args, &env).fails_with(3, "limited to project 'proj-a'");
    }
}
