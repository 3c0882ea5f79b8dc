//! The behavioural suite: every scenario is an `async fn scenario(backend)` that launches the
//! real binary over stdio, and runs once on the embedded SQLite database (`<scenario>::sqlite`)
//! and once on PostgreSQL (`<scenario>::postgres`). A few scenarios only make sense on
//! PostgreSQL.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use crate::support::mcp::abbreviate;
use crate::support::pg::admin_scalar;
use crate::support::{Backend, McpClient, TestDb};
use serde_json::{Value, json};

on_both_backends!(
    every_tool,
    dedup,
    dedup_across_concurrent_processes,
    pagination,
    scope_limit,
    scope_count_follows_every_writer,
    bad_input,
    hostile_search_text,
    isolation,
    global_mode,
    auto_mode,
    stdin_close_exits_0,
    sigterm_exits_0,
    sigint_exits_0,
    bad_project_mode_exits_2,
);

// ---------------------------------------------------------------------------------------------
// Helpers

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn assert_scope(result: &Value, user: &str, project: &str, mode: &str) {
    let scope = &result["scope"];
    assert_eq!(
        keys(scope),
        ["mode", "project_id", "user_id"],
        "scope shape: {result}"
    );
    assert_eq!(scope["user_id"], user, "scope.user_id in {result}");
    assert_eq!(scope["project_id"], project, "scope.project_id in {result}");
    assert_eq!(scope["mode"], mode, "scope.mode in {result}");
}

fn timestamp(value: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a timestamp string: {value}"));
    assert!(text.ends_with('Z'), "timestamps are UTC: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("not RFC 3339: {text}: {e}"))
}

/// `{id, content, tags, metadata, created_at, updated_at, expires_at}` (+ `user_id` in global mode, +
/// `score` in search results).
fn assert_memory_shape(memory: &Value, global: bool, scored: bool) {
    let mut expected = vec![
        "content",
        "created_at",
        "expires_at",
        "id",
        "metadata",
        "tags",
        "updated_at",
    ];
    if global {
        expected.push("user_id");
    }
    if scored {
        expected.push("score");
    }
    expected.sort();
    assert_eq!(keys(memory), expected, "memory shape: {memory}");
    let id = memory["id"].as_str().expect("id is a string");
    uuid::Uuid::parse_str(id).unwrap_or_else(|_| panic!("id is a UUID: {id}"));
    assert!(memory["content"].is_string());
    assert!(memory["tags"].is_array());
    assert!(memory["metadata"].is_object());
    let created = timestamp(&memory["created_at"]);
    let updated = timestamp(&memory["updated_at"]);
    assert!(updated >= created, "updated_at before created_at: {memory}");
    if scored {
        assert!(memory["score"].is_number(), "score: {memory}");
    }
}

fn id_of(added: &Value) -> String {
    added["memory"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no memory id in {added}"))
        .to_string()
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} array in {list}"))
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

fn contents(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} array in {list}"))
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn total(server: &McpClient) -> u64 {
    server.ok("list_memories", json!({})).await["total"]
        .as_u64()
        .expect("total is a number")
}

async fn search(server: &McpClient, query: &str) -> Value {
    let found = server
        .ok("search_memories", json!({"query": query, "limit": 20}))
        .await;
    let results = found["results"].as_array().expect("results array");
    let mut previous = f64::INFINITY;
    for result in results {
        let score = result["score"].as_f64().expect("every result has a score");
        assert!(score <= previous, "results are best first: {found}");
        previous = score;
    }
    found
}

/// The first result of a search for `query` must be `id`.
async fn assert_found_first(server: &McpClient, query: &str, id: &str) {
    let found = search(server, query).await;
    assert_eq!(
        found["results"][0]["id"], id,
        "searching {query:?} should find {id} first: {found:#}"
    );
}

async fn assert_not_found(server: &McpClient, query: &str, id: &str) {
    let found = search(server, query).await;
    assert!(
        !ids(&found, "results").contains(&id.to_string()),
        "searching {query:?} should not find {id}: {found:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Every tool

async fn every_tool(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().user("alice").manual("proj-every").start().await;

    // memory_status, before anything is stored (no arguments at all, and an empty object).
    let status = s.ok("memory_status", Value::Null).await;
    assert_eq!(
        keys(&status),
        [
            "backend",
            "count",
            "expiring_within_7_days",
            "limit",
            "mode",
            "permissions",
            "project_id",
            "scope",
            "semantic",
            "user_id",
            "version"
        ]
    );
    // No provider: search is lexical, and says so.
    assert_eq!(
        status["semantic"],
        json!({"provider": "none", "state": "off", "model": null, "reason": null, "embedded": null})
    );
    assert_eq!(status["user_id"], "alice");
    assert_eq!(status["project_id"], "proj-every");
    assert_eq!(status["mode"], "manual");
    assert_eq!(status["backend"], backend.name());
    assert_eq!(status["count"], 0);
    assert_eq!(status["limit"], 1000);
    assert_eq!(status["expiring_within_7_days"], 0);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    let permissions = match backend {
        // The embedded file belongs to its owner: everything.
        Backend::Sqlite => json!(["read", "write", "admin"]),
        // PostgreSQL without a token: read and write.
        Backend::Postgres => json!(["read", "write"]),
    };
    assert_eq!(status["permissions"], permissions);
    assert_scope(&status, "alice", "proj-every", "manual");
    let status = s.ok("memory_status", json!({})).await;
    assert_eq!(status["count"], 0);

    // add_memory with tags and metadata.
    let deploy_text = "Deploys go through the GitHub Actions workflow deploy.yml on main";
    let (added, is_error, text) = s
        .call(
            "add_memory",
            json!({
                "content": deploy_text,
                "tags": ["ci", "deploy"],
                "metadata": {"source": "review", "pr": 42, "nested": {"ok": true}}
            }),
        )
        .await;
    assert!(!is_error, "{text}");
    assert_eq!(keys(&added), ["deduplicated", "memory", "scope"]);
    assert_eq!(added["deduplicated"], false);
    assert_scope(&added, "alice", "proj-every", "manual");
    let deploy = added["memory"].clone();
    assert_memory_shape(&deploy, false, false);
    assert_eq!(deploy["content"], deploy_text);
    assert_eq!(deploy["tags"], json!(["ci", "deploy"]));
    assert_eq!(
        deploy["metadata"],
        json!({"source": "review", "pr": 42, "nested": {"ok": true}})
    );
    assert_eq!(deploy["created_at"], deploy["updated_at"]);
    let deploy_id = id_of(&added);
    assert!(
        text.contains(&deploy_id),
        "the text rendering names the id: {text}"
    );
    // The same check through ok(), which also validates against the output schema.
    let added_again = s
        .ok(
            "add_memory",
            json!({"content": deploy_text, "tags": ["ci", "deploy"]}),
        )
        .await;
    assert_eq!(added_again["deduplicated"], true);

    let add = async |content: &str| {
        let added = s.ok("add_memory", json!({"content": content})).await;
        assert_eq!(added["deduplicated"], false, "{added}");
        assert_memory_shape(&added["memory"], false, false);
        assert_eq!(added["memory"]["tags"], json!([]));
        assert_eq!(added["memory"]["metadata"], json!({}));
        id_of(&added)
    };
    let pnpm_text = "Use pnpm and keep pnpm-lock.yaml committed; never add package-lock.json";
    let pnpm_id = add(pnpm_text).await;
    let version_id = add("Release v1.2.3 fixed the cache invalidation bug").await;
    let ident_id =
        add("The settings loader is called snake_case_name and lives in src/config.rs").await;
    let coffee_id = add("The office espresso machine needs descaling every month").await;

    // search_memories: plain words, stemmed forms, identifiers, file names, versions.
    assert_found_first(&s, "espresso", &coffee_id).await;
    assert_found_first(&s, "deploying", &deploy_id).await;
    assert_found_first(&s, "deployed", &deploy_id).await;
    assert_found_first(&s, "pnpm-lock.yaml", &pnpm_id).await;
    assert_found_first(&s, "package-lock.json", &pnpm_id).await;
    assert_found_first(&s, "v1.2.3", &version_id).await;
    assert_found_first(&s, "snake_case_name", &ident_id).await;
    assert_found_first(&s, "src/config.rs", &ident_id).await;
    assert_found_first(&s, "How do we deploy?", &deploy_id).await;
    let found = search(&s, "espresso").await;
    assert_eq!(keys(&found), ["results", "scope"]);
    assert_scope(&found, "alice", "proj-every", "manual");
    for result in found["results"].as_array().unwrap() {
        assert_memory_shape(result, false, true);
    }
    assert!(found["results"][0]["score"].as_f64().unwrap() > 0.0);
    let nothing = search(&s, "kubernetes").await;
    assert_eq!(nothing["results"], json!([]), "no match is an empty list");
    // limit and tags on search.
    let one = s
        .ok("search_memories", json!({"query": "the", "limit": 1}))
        .await;
    assert!(one["results"].as_array().unwrap().len() <= 1);
    let tagged = s
        .ok(
            "search_memories",
            json!({"query": "deploy", "tags": ["deploy"]}),
        )
        .await;
    assert_eq!(ids(&tagged, "results"), [deploy_id.as_str()]);
    let wrong_tag = s
        .ok(
            "search_memories",
            json!({"query": "deploy", "tags": ["frontend"]}),
        )
        .await;
    assert_eq!(wrong_tag["results"], json!([]));

    // list_memories: newest first, everything on one page.
    let listed = s.ok("list_memories", json!({})).await;
    assert_eq!(keys(&listed), ["memories", "next_cursor", "scope", "total"]);
    assert_scope(&listed, "alice", "proj-every", "manual");
    assert_eq!(listed["total"], 5);
    assert!(listed["next_cursor"].is_null());
    assert_eq!(
        ids(&listed, "memories"),
        [
            coffee_id.clone(),
            ident_id.clone(),
            version_id.clone(),
            pnpm_id.clone(),
            deploy_id.clone()
        ]
    );
    for memory in listed["memories"].as_array().unwrap() {
        assert_memory_shape(memory, false, false);
    }
    let by_tag = s.ok("list_memories", json!({"tags": ["ci"]})).await;
    assert_eq!(by_tag["total"], 1);
    assert_eq!(ids(&by_tag, "memories"), [deploy_id.as_str()]);

    // get_memory returns exactly what add_memory returned.
    let got = s.ok("get_memory", json!({"id": deploy_id})).await;
    assert_eq!(keys(&got), ["memory", "scope"]);
    assert_scope(&got, "alice", "proj-every", "manual");
    assert_eq!(got["memory"], deploy);
    // Ids are accepted with surrounding whitespace and in upper case.
    let got_upper = s
        .ok(
            "get_memory",
            json!({"id": format!(" {} ", deploy_id.to_uppercase())}),
        )
        .await;
    assert_eq!(got_upper["memory"]["id"], deploy_id.as_str());

    // update_memory: content, tags and metadata at once.
    let new_text = "Deploys go through the Buildkite pipeline ship.yml";
    let updated = s
        .ok(
            "update_memory",
            json!({
                "id": deploy_id,
                "content": new_text,
                "tags": ["buildkite"],
                "metadata": {"source": "chat"}
            }),
        )
        .await;
    assert_eq!(keys(&updated), ["memory", "scope"]);
    assert_scope(&updated, "alice", "proj-every", "manual");
    let m = &updated["memory"];
    assert_memory_shape(m, false, false);
    assert_eq!(m["id"], deploy_id.as_str());
    assert_eq!(m["content"], new_text);
    assert_eq!(m["tags"], json!(["buildkite"]));
    assert_eq!(m["metadata"], json!({"source": "chat"}));
    assert_eq!(m["created_at"], deploy["created_at"]);
    assert!(timestamp(&m["updated_at"]) >= timestamp(&deploy["updated_at"]));
    assert_eq!(
        s.ok("get_memory", json!({"id": deploy_id})).await["memory"],
        *m
    );
    // Search finds the new content and no longer the old.
    assert_found_first(&s, "Buildkite", &deploy_id).await;
    assert_found_first(&s, "ship.yml", &deploy_id).await;
    assert_not_found(&s, "GitHub Actions", &deploy_id).await;
    assert_not_found(&s, "workflow", &deploy_id).await;

    // Only tags, then only metadata: the rest is kept.
    let tags_only = s
        .ok(
            "update_memory",
            json!({"id": deploy_id, "tags": ["buildkite", "ci"]}),
        )
        .await;
    assert_eq!(tags_only["memory"]["content"], new_text);
    assert_eq!(tags_only["memory"]["tags"], json!(["buildkite", "ci"]));
    assert_eq!(tags_only["memory"]["metadata"], json!({"source": "chat"}));
    let metadata_only = s
        .ok(
            "update_memory",
            json!({"id": deploy_id, "metadata": {"source": "chat", "checked": true}}),
        )
        .await;
    assert_eq!(metadata_only["memory"]["content"], new_text);
    assert_eq!(metadata_only["memory"]["tags"], json!(["buildkite", "ci"]));
    assert_eq!(
        metadata_only["memory"]["metadata"],
        json!({"source": "chat", "checked": true})
    );
    // Updating to the content of another memory of the scope is refused and changes nothing.
    let taken = s
        .err(
            "update_memory",
            json!({"id": deploy_id, "content": pnpm_text}),
        )
        .await;
    assert!(taken.contains(&pnpm_id), "names the other memory: {taken}");
    assert_eq!(
        s.ok("get_memory", json!({"id": deploy_id})).await["memory"]["content"],
        new_text
    );

    // delete_memory returns what was deleted.
    let deleted = s.ok("delete_memory", json!({"id": deploy_id})).await;
    assert_eq!(keys(&deleted), ["memory", "scope"]);
    assert_scope(&deleted, "alice", "proj-every", "manual");
    assert_eq!(deleted["memory"]["id"], deploy_id.as_str());
    assert_eq!(deleted["memory"]["content"], new_text);
    let gone = s.err("get_memory", json!({"id": deploy_id})).await;
    assert!(gone.contains("no memory with id"), "{gone}");
    let again = s.err("delete_memory", json!({"id": deploy_id})).await;
    assert!(again.contains("no memory with id"), "{again}");
    assert_eq!(total(&s).await, 4);
    assert_not_found(&s, "Buildkite", &deploy_id).await;

    // memory_history: ADD, three UPDATEs, DELETE, with actor and time, after the delete too.
    let history = s.ok("memory_history", json!({"id": deploy_id})).await;
    assert_eq!(keys(&history), ["events", "scope"]);
    assert_scope(&history, "alice", "proj-every", "manual");
    let events = history["events"].as_array().unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["ADD", "UPDATE", "UPDATE", "UPDATE", "DELETE"],
        "{history:#}"
    );
    assert_eq!(events[0]["content"], deploy_text);
    assert_eq!(events[1]["content"], new_text);
    assert_eq!(events[4]["content"], new_text);
    let mut previous = None;
    for event in events {
        for key in ["event", "content", "actor", "at"] {
            assert!(event.get(key).is_some(), "{key} missing in {event}");
        }
        assert_eq!(event["actor"], "alice");
        let at = timestamp(&event["at"]);
        if let Some(previous) = previous {
            assert!(at >= previous, "events oldest first: {history:#}");
        }
        previous = Some(at);
    }

    // delete_all_memories: other scopes exist and must survive.
    let other_project = db.server().user("alice").manual("proj-other").start().await;
    other_project
        .ok(
            "add_memory",
            json!({"content": "A fact of another project"}),
        )
        .await;
    let other_user = db.server().user("bob").manual("proj-every").start().await;
    other_user
        .ok(
            "add_memory",
            json!({"content": "Bob's fact in the same project"}),
        )
        .await;

    let refused = s
        .err("delete_all_memories", json!({"confirm": false}))
        .await;
    assert!(refused.contains("confirm"), "{refused}");
    let refused = s
        .err(
            "delete_all_memories",
            json!({"confirm": false, "dry_run": true}),
        )
        .await;
    assert!(refused.contains("confirm"), "{refused}");
    s.err("delete_all_memories", json!({})).await;
    assert_eq!(total(&s).await, 4, "a refused delete_all deletes nothing");

    let dry = s
        .ok(
            "delete_all_memories",
            json!({"confirm": true, "dry_run": true}),
        )
        .await;
    assert_eq!(keys(&dry), ["deleted", "dry_run", "scope"]);
    assert_scope(&dry, "alice", "proj-every", "manual");
    assert_eq!(dry["deleted"], 4);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(total(&s).await, 4, "a dry run deletes nothing");
    assert!(
        db.backup_files().is_empty(),
        "a dry run writes no backup: {:?}",
        db.backup_files()
    );

    let remaining: BTreeSet<String> = contents(&s.ok("list_memories", json!({})).await, "memories")
        .into_iter()
        .collect();
    let wiped = s.ok("delete_all_memories", json!({"confirm": true})).await;
    assert_eq!(wiped["deleted"], 4);
    assert_eq!(wiped["dry_run"], false);
    assert_scope(&wiped, "alice", "proj-every", "manual");
    assert_eq!(total(&s).await, 0);
    assert_eq!(
        total(&other_project).await,
        1,
        "another project is untouched"
    );
    assert_eq!(total(&other_user).await, 1, "another user is untouched");

    // The backup holds exactly what was deleted.
    let backups = db.backup_files();
    assert_eq!(backups.len(), 1, "one backup file: {backups:?}");
    assert!(
        backups[0].extension().is_some_and(|e| e == "jsonl"),
        "{backups:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backups[0]).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the backup is readable by its owner only: {mode:o}"
        );
    }
    let text = std::fs::read_to_string(&backups[0]).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each backup line is JSON"))
        .collect();
    let backed_up: BTreeSet<String> = lines
        .iter()
        .map(|l| l["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(backed_up, remaining);
    for line in &lines {
        assert_eq!(line["user_id"], "alice");
        assert_eq!(line["project_id"], "proj-every");
        assert!(line["id"].is_string());
    }

    let nothing_left = s.ok("delete_all_memories", json!({"confirm": true})).await;
    assert_eq!(nothing_left["deleted"], 0);
    let history = s.ok("memory_history", json!({"id": coffee_id})).await;
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ADD", "DELETE"], "delete_all leaves history");
    let status = s.ok("memory_status", json!({})).await;
    assert_eq!(status["count"], 0);

    s.shutdown().await;
    other_project.shutdown().await;
    other_user.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 2. Dedup

async fn dedup(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().start().await;
    let first = s
        .ok(
            "add_memory",
            json!({"content": "Run the tests with cargo nextest"}),
        )
        .await;
    assert_eq!(first["deduplicated"], false);
    let id = id_of(&first);

    let second = s
        .ok(
            "add_memory",
            json!({"content": "Run the tests with cargo nextest"}),
        )
        .await;
    assert_eq!(second["deduplicated"], true);
    assert_eq!(id_of(&second), id);
    assert_eq!(
        second["memory"], first["memory"],
        "the existing memory, unchanged"
    );

    let padded = s
        .ok(
            "add_memory",
            json!({"content": "  \n\tRun the tests with cargo nextest \n"}),
        )
        .await;
    assert_eq!(padded["deduplicated"], true);
    assert_eq!(id_of(&padded), id);

    // A different content is a different memory.
    let other = s
        .ok(
            "add_memory",
            json!({"content": "Run the tests with cargo test"}),
        )
        .await;
    assert_eq!(other["deduplicated"], false);
    assert_ne!(id_of(&other), id);

    assert_eq!(total(&s).await, 2);
    let history = s.ok("memory_history", json!({"id": id})).await;
    assert_eq!(
        history["events"].as_array().unwrap().len(),
        1,
        "a deduplicated add records no event: {history:#}"
    );

    // Updating a memory to its own content (padded or not) is not a conflict with itself.
    let other_id = id_of(&other);
    let same = s
        .ok(
            "update_memory",
            json!({"id": other_id, "content": " Run the tests with cargo test ", "tags": ["same"]}),
        )
        .await;
    assert_eq!(same["memory"]["content"], "Run the tests with cargo test");
    assert_eq!(same["memory"]["tags"], json!(["same"]));

    // Once deleted, the same content can be stored again, as a new memory.
    s.ok("delete_memory", json!({"id": id})).await;
    let reborn = s
        .ok(
            "add_memory",
            json!({"content": "Run the tests with cargo nextest"}),
        )
        .await;
    assert_eq!(reborn["deduplicated"], false);
    assert_ne!(id_of(&reborn), id);
    assert_eq!(total(&s).await, 2);
    // An update that would duplicate it is refused.
    let taken = s
        .err(
            "update_memory",
            json!({"id": other_id, "content": "Run the tests with cargo nextest\n"}),
        )
        .await;
    assert!(taken.contains(&id_of(&reborn)), "{taken}");
    s.shutdown().await;
}

async fn dedup_across_concurrent_processes(backend: Backend) {
    let db = TestDb::new(backend);
    let a = db.server().user("alice").manual("proj-race").start().await;
    let b = db.server().user("alice").manual("proj-race").start().await;
    const CONTENTS: usize = 10;
    for i in 0..CONTENTS {
        let args = json!({"content": format!("Race fact {i}: two processes store this at once")});
        let (ra, rb) = tokio::join!(
            a.ok("add_memory", args.clone()),
            b.ok("add_memory", args.clone())
        );
        assert_eq!(
            id_of(&ra),
            id_of(&rb),
            "both processes must get the same memory: {ra} / {rb}"
        );
        let inserted = [&ra, &rb]
            .iter()
            .filter(|r| r["deduplicated"] == false)
            .count();
        assert_eq!(
            inserted, 1,
            "exactly one process inserts, the other deduplicates: {ra} / {rb}"
        );
    }
    assert_eq!(total(&a).await, CONTENTS as u64);
    assert_eq!(total(&b).await, CONTENTS as u64);
    a.shutdown().await;
    b.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 3. Pagination

async fn pagination(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().start().await;
    let mut added = Vec::new();
    for i in 0..25 {
        let tags = if i % 3 == 0 {
            json!(["third"])
        } else {
            json!([])
        };
        let memory = s
            .ok(
                "add_memory",
                json!({"content": format!("Paged note number {i:02}"), "tags": tags}),
            )
            .await;
        added.push(id_of(&memory));
    }
    let newest_first: Vec<String> = added.iter().rev().cloned().collect();

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"limit": 10});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = s.ok("list_memories", args).await;
        assert_eq!(page["total"], 25, "total on every page: {page}");
        sizes.push(page["memories"].as_array().unwrap().len());
        seen.extend(ids(&page, "memories"));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => {
                assert!(page["next_cursor"].is_null());
                break;
            }
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(seen, newest_first, "every memory once, newest first");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 25);

    // The same, in one page of 100 and with exactly 25.
    let all = s.ok("list_memories", json!({"limit": 100})).await;
    assert_eq!(ids(&all, "memories"), newest_first);
    assert!(all["next_cursor"].is_null());
    let exact = s.ok("list_memories", json!({"limit": 25})).await;
    assert!(
        exact["next_cursor"].is_null(),
        "no next page when the page ends exactly at the last memory"
    );

    // Tag filters page too, with the filtered total.
    let tagged: Vec<String> = newest_first
        .iter()
        .enumerate()
        .filter(|(i, _)| (24 - i) % 3 == 0)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(tagged.len(), 9);
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"limit": 4, "tags": ["third"]});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = s.ok("list_memories", args).await;
        assert_eq!(page["total"], 9, "{page}");
        sizes.push(page["memories"].as_array().unwrap().len());
        seen.extend(ids(&page, "memories"));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, [4, 4, 1]);
    assert_eq!(seen, tagged);

    // Deleting the memory a cursor points after skips nothing.
    let first = s.ok("list_memories", json!({"limit": 10})).await;
    let last_of_page = ids(&first, "memories")[9].clone();
    s.ok("delete_memory", json!({"id": last_of_page})).await;
    let second = s
        .ok(
            "list_memories",
            json!({"limit": 10, "cursor": first["next_cursor"]}),
        )
        .await;
    assert_eq!(ids(&second, "memories"), newest_first[10..20].to_vec());
    assert_eq!(second["total"], 24);

    // Cursors this server never returned are tool errors.
    for garbage in [
        "garbage",
        "eyJub3QiOiJhIGN1cnNvciJ9",
        "'; DROP TABLE memories; --",
        "%%%",
    ] {
        let message = s
            .err("list_memories", json!({"limit": 10, "cursor": garbage}))
            .await;
        assert!(message.contains("cursor"), "{garbage}: {message}");
    }
    assert_eq!(total(&s).await, 24);
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 4. Scope limit

async fn scope_limit(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db
        .server()
        .manual("proj-small")
        .env("MEM0_MAX_MEMORIES_PER_CONTEXT", "3")
        .start()
        .await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let added = s
            .ok(
                "add_memory",
                json!({"content": format!("Limited fact {i}")}),
            )
            .await;
        ids.push(id_of(&added));
    }
    let full = s
        .err("add_memory", json!({"content": "One fact too many"}))
        .await;
    assert!(full.contains("limit"), "{full}");
    assert!(full.contains('3'), "names the limit: {full}");
    assert_eq!(total(&s).await, 3, "nothing evicted, nothing added");

    // A duplicate of a stored memory still succeeds.
    let duplicate = s
        .ok("add_memory", json!({"content": "Limited fact 0"}))
        .await;
    assert_eq!(duplicate["deduplicated"], true);
    assert_eq!(id_of(&duplicate), ids[0]);

    let status = s.ok("memory_status", json!({})).await;
    assert_eq!(status["count"], 3);
    assert_eq!(status["limit"], 3);

    // Another project of the same user is not affected.
    let other = db
        .server()
        .manual("proj-roomy")
        .env("MEM0_MAX_MEMORIES_PER_CONTEXT", "3")
        .start()
        .await;
    let added = other
        .ok("add_memory", json!({"content": "One fact too many"}))
        .await;
    assert_eq!(added["deduplicated"], false);

    // Room again after a delete.
    s.ok("delete_memory", json!({"id": ids[1]})).await;
    s.ok("add_memory", json!({"content": "One fact too many"}))
        .await;
    assert_eq!(total(&s).await, 3);
    s.shutdown().await;
    other.shutdown().await;

    // Two processes racing for the last places never overshoot the limit.
    let racer = |user: &'static str| {
        db.server()
            .user(user)
            .manual("proj-race-limit")
            .env("MEM0_MAX_MEMORIES_PER_CONTEXT", "5")
            .start()
    };
    let (a, b) = tokio::join!(racer("carol"), racer("carol"));
    let mut stored = 0;
    for i in 0..5 {
        let (ra, rb) = tokio::join!(
            a.call(
                "add_memory",
                json!({"content": format!("Racer A fact {i}")})
            ),
            b.call(
                "add_memory",
                json!({"content": format!("Racer B fact {i}")})
            )
        );
        for (structured, is_error, text) in [ra, rb] {
            if is_error {
                assert!(text.contains("limit"), "{text}");
            } else {
                assert_eq!(structured["deduplicated"], false);
                stored += 1;
            }
        }
    }
    assert_eq!(stored, 5, "exactly the limit gets stored");
    assert_eq!(total(&a).await, 5);
    a.shutdown().await;
    b.shutdown().await;
}

async fn status_count(server: &McpClient) -> u64 {
    let status = server.ok("memory_status", json!({})).await;
    status["count"].as_u64().expect("memory_status count")
}

/// The per-scope limit reads a counter the database keeps; writers other than the server (a
/// bulk insert, a DELETE or UPDATE by hand, TRUNCATE) keep it exact, and the migration that
/// adds it counts the memories already there.
async fn scope_count_follows_every_writer(backend: Backend) {
    let db = TestDb::new(backend);
    let server = || {
        db.server()
            .user("dana")
            .manual("proj-counted")
            .env("MEM0_MAX_MEMORIES_PER_CONTEXT", "6")
            .start()
    };
    let s = server().await;
    for i in 0..2 {
        s.ok(
            "add_memory",
            json!({"content": format!("Counted fact {i}")}),
        )
        .await;
    }
    let row = |id: u32, project: &str, content: &str| {
        format!(
            "('00000000-0000-4000-8000-{id:012}', 'dana', 'dana', '{project}', '{content}', '{content}', \
             '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')"
        )
    };
    let insert = "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, created_at, updated_at) VALUES";
    db.execute(&format!(
        "{insert} {}, {}, {}",
        row(1, "proj-counted", "loaded one"),
        row(2, "proj-counted", "loaded two"),
        row(3, "proj-elsewhere", "loaded three")
    ))
    .await;
    assert_eq!(status_count(&s).await, 4, "a bulk insert is counted");
    db.execute("DELETE FROM memories WHERE content = 'loaded one'")
        .await;
    assert_eq!(status_count(&s).await, 3, "a delete by hand is counted");
    db.execute("UPDATE memories SET project_id = 'proj-counted' WHERE content = 'loaded three'")
        .await;
    assert_eq!(status_count(&s).await, 4, "a row moved in is counted");
    db.execute(
        "UPDATE memories SET content = 'loaded three, edited' WHERE content = 'loaded three'",
    )
    .await;
    assert_eq!(status_count(&s).await, 4, "an edit is not a move");

    // The limit (6) holds against the counted total.
    for i in 2..4 {
        s.ok(
            "add_memory",
            json!({"content": format!("Counted fact {i}")}),
        )
        .await;
    }
    let full = s
        .err("add_memory", json!({"content": "Counted fact 4"}))
        .await;
    assert!(full.contains("limit"), "{full}");
    assert_eq!(total(&s).await, 6);
    let other = db
        .server()
        .user("dana")
        .manual("proj-elsewhere")
        .start()
        .await;
    assert_eq!(
        status_count(&other).await,
        0,
        "the moved row left its scope"
    );
    other.shutdown().await;

    s.ok("delete_all_memories", json!({"confirm": true})).await;
    assert_eq!(status_count(&s).await, 0);
    s.shutdown().await;

    // Upgrading a database that already holds memories counts them.
    db.execute(&format!(
        "{insert} {}, {}",
        row(5, "proj-counted", "kept five"),
        row(6, "proj-counted", "kept six")
    ))
    .await;
    let remove_counter = match backend {
        Backend::Sqlite => {
            "DROP TRIGGER memory_scope_counts_insert; DROP TRIGGER memory_scope_counts_delete;
             DROP TRIGGER memory_scope_counts_update; DROP TRIGGER memory_vectors_inserted;
             DROP TRIGGER memory_vectors_updated; DROP TRIGGER memory_vectors_deleted;
             DROP TABLE memory_scope_counts;"
        }
        Backend::Postgres => {
            "DROP FUNCTION memory_scope_counts_after_insert() CASCADE;
             DROP FUNCTION memory_scope_counts_after_delete() CASCADE;
             DROP FUNCTION memory_scope_counts_after_move() CASCADE;
             DROP FUNCTION memory_scope_counts_after_truncate() CASCADE;
             DROP FUNCTION memory_scope_counts_after_update() CASCADE;
             DROP FUNCTION memory_scope_counts_vectors_changed() CASCADE;
             DROP FUNCTION memory_scope_counts_vectors_truncated() CASCADE;
             DROP TABLE memory_scope_counts;"
        }
    };
    db.execute(&format!(
        "{remove_counter} DELETE FROM mem0_schema_migrations WHERE version IN (20261126000001, 20261206000001, 20261207000001);"
    ))
    .await;
    if backend == Backend::Postgres {
        let migrated = db.run(&["migrate"], &[]);
        assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);
    }
    let s = server().await;
    assert_eq!(
        status_count(&s).await,
        2,
        "the migration counts existing rows"
    );
    if backend == Backend::Postgres {
        db.execute("TRUNCATE memories").await;
        assert_eq!(status_count(&s).await, 0, "TRUNCATE resets the counts");
        s.ok("add_memory", json!({"content": "After truncate"}))
            .await;
        assert_eq!(status_count(&s).await, 1);
    }
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 5. Bad input

async fn bad_input(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().start().await;
    let seed = s
        .ok(
            "add_memory",
            json!({"content": "The build uses cargo nextest", "tags": ["build"], "metadata": {"k": "v"}}),
        )
        .await;
    let seed_id = id_of(&seed);
    let unknown = random_id();

    let too_many_tags: Vec<String> = (0..21).map(|i| format!("tag{i}")).collect();
    let long_tag = "t".repeat(65);
    let big_metadata = json!({"blob": "x".repeat(8 * 1024)});
    let cases: Vec<(&str, Value, &str)> = vec![
        ("add_memory", json!({"content": ""}), "empty"),
        ("add_memory", json!({"content": "  \n\t "}), "empty"),
        (
            "add_memory",
            json!({"content": "x".repeat(32 * 1024 + 1)}),
            "32 KiB",
        ),
        ("add_memory", json!({"content": "a\u{0}b"}), "NUL"),
        (
            "add_memory",
            json!({"content": "fine", "tags": too_many_tags}),
            "20",
        ),
        (
            "add_memory",
            json!({"content": "fine", "tags": [long_tag]}),
            "64",
        ),
        (
            "add_memory",
            json!({"content": "fine", "tags": ["ok", ""]}),
            "empty",
        ),
        (
            "add_memory",
            json!({"content": "fine", "metadata": [1, 2]}),
            "JSON object",
        ),
        (
            "add_memory",
            json!({"content": "fine", "metadata": "source=review"}),
            "JSON object",
        ),
        (
            "add_memory",
            json!({"content": "fine", "metadata": 5}),
            "JSON object",
        ),
        (
            "add_memory",
            json!({"content": "fine", "metadata": big_metadata}),
            "8 KiB",
        ),
        (
            "add_memory",
            json!({"content": "fine", "metadata": {"a": "b\u{0}"}}),
            "NUL",
        ),
        ("get_memory", json!({"id": unknown}), "no memory with id"),
        (
            "update_memory",
            json!({"id": unknown, "content": "new"}),
            "no memory with id",
        ),
        ("delete_memory", json!({"id": unknown}), "no memory with id"),
        (
            "memory_history",
            json!({"id": unknown}),
            "no memory with id",
        ),
        (
            "update_memory",
            json!({"id": seed_id, "content": ""}),
            "empty",
        ),
        (
            "update_memory",
            json!({"id": seed_id, "metadata": [1]}),
            "JSON object",
        ),
        (
            "update_memory",
            json!({"id": seed_id, "tags": too_many_tags}),
            "20",
        ),
        ("update_memory", json!({"id": seed_id}), "nothing to update"),
        ("search_memories", json!({"query": ""}), "empty"),
        ("search_memories", json!({"query": "   "}), "empty"),
        (
            "search_memories",
            json!({"query": "q".repeat(2049)}),
            "2048",
        ),
    ];
    let mut cases = cases;
    for malformed in ["abc", "'; DROP TABLE memories; --", ""] {
        for tool in ["get_memory", "delete_memory", "memory_history"] {
            cases.push((tool, json!({"id": malformed}), "not a memory id"));
        }
        cases.push((
            "update_memory",
            json!({"id": malformed, "content": "new"}),
            "not a memory id",
        ));
    }
    for limit in [0, 101, -1] {
        cases.push((
            "search_memories",
            json!({"query": "cargo", "limit": limit}),
            "limit",
        ));
        cases.push(("list_memories", json!({"limit": limit}), "limit"));
    }
    for (tool, args, expected) in &cases {
        let message = s.err(tool, args.clone()).await;
        assert!(
            message.contains(expected),
            "{tool}({}): the message should mention {expected:?}: {message}",
            abbreviate(&args.to_string())
        );
        assert!(
            !message.to_lowercase().contains("sqlx") && !message.contains("SQLSTATE"),
            "no database internals in messages: {message}"
        );
    }

    // Wrongly typed or unknown arguments are tool errors too.
    for (tool, args) in [
        ("add_memory", json!({})),
        ("add_memory", json!({"content": 42})),
        (
            "add_memory",
            json!({"content": "fine", "tags": "not-a-list"}),
        ),
        ("add_memory", json!({"content": "fine", "colour": "blue"})),
        ("search_memories", json!({"query": "cargo", "limit": "ten"})),
        ("list_memories", json!({"limit": 1.5})),
        ("get_memory", json!({})),
        ("get_memory", json!({"id": 7})),
        ("delete_all_memories", json!({"confirm": "yes"})),
    ] {
        s.err(tool, args).await;
    }

    // Nothing changed.
    assert_eq!(total(&s).await, 1);
    let unchanged = s.ok("get_memory", json!({"id": seed_id})).await;
    assert_eq!(unchanged["memory"], seed["memory"]);
    let history = s.ok("memory_history", json!({"id": seed_id})).await;
    assert_eq!(history["events"].as_array().unwrap().len(), 1);

    // The limits themselves are allowed.
    let limits = db.server().manual("proj-limits").start().await;
    let biggest = "é".repeat(16 * 1024);
    let added = limits.ok("add_memory", json!({"content": biggest})).await;
    assert_eq!(added["memory"]["content"], biggest.as_str());
    let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    let tag64 = "ü".repeat(64);
    let mut metadata = json!({"blob": ""});
    let overhead = metadata.to_string().len();
    metadata["blob"] = json!("m".repeat(8 * 1024 - overhead));
    let added = limits
        .ok(
            "add_memory",
            json!({"content": "limits", "tags": twenty, "metadata": metadata}),
        )
        .await;
    assert_eq!(added["memory"]["tags"].as_array().unwrap().len(), 20);
    limits
        .ok(
            "add_memory",
            json!({"content": "a long tag", "tags": [tag64]}),
        )
        .await;
    limits
        .ok(
            "search_memories",
            json!({"query": "q".repeat(2048), "limit": 100}),
        )
        .await;
    limits
        .ok("search_memories", json!({"query": "limits", "limit": 1}))
        .await;
    limits.ok("list_memories", json!({"limit": 1})).await;
    limits.ok("list_memories", json!({"limit": 100})).await;
    assert_eq!(total(&limits).await, 3);
    s.shutdown().await;
    limits.shutdown().await;
}

async fn hostile_search_text(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().start().await;
    for content in [
        "The build uses cargo nextest",
        "Deploys go out on Tuesdays",
        "Logs rotate at 100 MB",
    ] {
        s.ok("add_memory", json!({"content": content})).await;
    }
    // Hostile content is stored and read back byte for byte.
    let hostile = "'; DROP TABLE memories; -- \"quoted\" \\back\\slash\\ %_ NEAR(a b) 🦀 ünïcödé";
    let added = s.ok("add_memory", json!({"content": hostile})).await;
    let hostile_id = id_of(&added);
    assert_eq!(
        s.ok("get_memory", json!({"id": hostile_id})).await["memory"]["content"],
        hostile
    );

    for query in [
        "\"unbalanced",
        "foo AND OR NOT",
        "NEAR(a b)",
        "a* -b:c (d",
        "'; DROP TABLE memories; --",
        "%_\\",
        "\\",
        "🦀🚀",
        "*",
        "^",
        "content:cargo",
        "\"\"",
        "OR",
        "NOT cargo",
        "cargo)",
        "{\"$ne\": null}",
        "' OR '1'='1",
        "…—–",
    ] {
        let found = s
            .ok("search_memories", json!({"query": query, "limit": 100}))
            .await;
        assert!(found["results"].is_array(), "{query}: {found}");
    }
    // LIKE wildcards in a query are literal: they match nothing here.
    for query in ["%%%", "___", "%_%", "_%_%_"] {
        let found = s.ok("search_memories", json!({"query": query})).await;
        assert_eq!(
            found["results"],
            json!([]),
            "{query:?} must not act as a wildcard: {found:#}"
        );
    }
    assert_found_first(&s, "DROP TABLE", &hostile_id).await;
    assert_eq!(total(&s).await, 4, "every memory survived");
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 6. Isolation

async fn isolation(backend: Backend) {
    let db = TestDb::new(backend);
    let alice_p = db.server().user("alice").manual("proj-p").start().await;
    let bob_p = db.server().user("bob").manual("proj-p").start().await;
    let alice_q = db.server().user("alice").manual("proj-q").start().await;

    let secret_text = "Alice's private fact: the staging password rotates weekly";
    let added = alice_p
        .ok("add_memory", json!({"content": secret_text}))
        .await;
    let original = added["memory"].clone();
    let id = id_of(&added);
    let random = random_id();

    for (who, other) in [("bob in P", &bob_p), ("alice in Q", &alice_q)] {
        for (tool, extra) in [
            ("get_memory", json!({})),
            (
                "update_memory",
                json!({"content": "overwritten by someone else"}),
            ),
            ("update_memory", json!({"tags": ["x"]})),
            ("delete_memory", json!({})),
            ("memory_history", json!({})),
        ] {
            let mut args = extra.clone();
            args["id"] = json!(id);
            let mut random_args = extra.clone();
            random_args["id"] = json!(random);
            let theirs = other.err(tool, args).await;
            let nobodys = other.err(tool, random_args).await;
            assert_eq!(
                theirs.replace(&id, "<ID>"),
                nobodys.replace(&random, "<ID>"),
                "{who}: {tool} on another scope's memory must fail exactly like on a random id"
            );
            assert!(theirs.contains("no memory with id"), "{theirs}");
        }
        assert_eq!(total(other).await, 0, "{who} lists nothing");
        let found = search(other, "staging password").await;
        assert_eq!(found["results"], json!([]), "{who} finds nothing");
        let wiped = other
            .ok("delete_all_memories", json!({"confirm": true}))
            .await;
        assert_eq!(wiped["deleted"], 0, "{who}");
        // The same content in another scope is a separate memory: dedup leaks nothing.
        let own = other
            .ok("add_memory", json!({"content": secret_text}))
            .await;
        assert_eq!(own["deduplicated"], false, "{who}");
        assert_ne!(id_of(&own), id);
        other.ok("delete_memory", json!({"id": id_of(&own)})).await;
    }

    // Alice still has it, unchanged, with only its ADD in the history.
    let still = alice_p.ok("get_memory", json!({"id": id})).await;
    assert_eq!(still["memory"], original);
    let history = alice_p.ok("memory_history", json!({"id": id})).await;
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ADD"]);
    assert_eq!(total(&alice_p).await, 1);
    assert_found_first(&alice_p, "staging password", &id).await;

    alice_p.shutdown().await;
    bob_p.shutdown().await;
    alice_q.shutdown().await;
}

async fn global_mode(backend: Backend) {
    let db = TestDb::new(backend);
    let alice = db.server().user("alice").global().start().await;
    let bob = db.server().user("bob").global().start().await;
    let alice_private = db.server().user("alice").manual("proj-p").start().await;

    let status = bob.ok("memory_status", json!({})).await;
    assert_eq!(status["project_id"], "global");
    assert_eq!(status["mode"], "global");
    assert_scope(&status, "bob", "global", "global");

    let team_text = "Team convention: PR titles follow Conventional Commits";
    let team = alice.ok("add_memory", json!({"content": team_text})).await;
    assert_scope(&team, "alice", "global", "global");
    assert_memory_shape(&team["memory"], true, false);
    assert_eq!(team["memory"]["user_id"], "alice");
    let team_id = id_of(&team);
    let bobs = bob
        .ok(
            "add_memory",
            json!({"content": "Staging is reset every night at 02:00"}),
        )
        .await;
    assert_eq!(bobs["memory"]["user_id"], "bob");
    let bobs_id = id_of(&bobs);
    let private = alice_private
        .ok(
            "add_memory",
            json!({"content": "Alice's private note about proj-p"}),
        )
        .await;
    let private_id = id_of(&private);

    // Both see the whole shared pool, with authors.
    for (who, server) in [("alice", &alice), ("bob", &bob)] {
        let listed = server.ok("list_memories", json!({})).await;
        assert_eq!(listed["total"], 2, "{who}: {listed:#}");
        assert_eq!(ids(&listed, "memories"), [bobs_id.clone(), team_id.clone()]);
        for memory in listed["memories"].as_array().unwrap() {
            assert_memory_shape(memory, true, false);
        }
        assert_eq!(listed["memories"][1]["user_id"], "alice");
        assert_eq!(listed["memories"][0]["user_id"], "bob");
        let found = search(server, "Conventional Commits").await;
        assert_eq!(found["results"][0]["id"], team_id.as_str(), "{who}");
        assert_memory_shape(&found["results"][0], true, true);
        assert_eq!(found["results"][0]["user_id"], "alice");
        let got = server.ok("get_memory", json!({"id": team_id})).await;
        assert_eq!(got["memory"]["content"], team_text);
        // Private memories never show up in the pool.
        let err = server.err("get_memory", json!({"id": private_id})).await;
        assert!(err.contains("no memory with id"), "{err}");
        assert_not_found(server, "private note", &private_id).await;
    }
    // ... and the pool never shows up in a private scope.
    assert_eq!(total(&alice_private).await, 1);
    let err = alice_private
        .err("get_memory", json!({"id": team_id}))
        .await;
    assert!(err.contains("no memory with id"), "{err}");
    assert_not_found(&alice_private, "Conventional Commits", &team_id).await;

    // The pool is one scope: the same content from another user is the same memory.
    let again = bob.ok("add_memory", json!({"content": team_text})).await;
    assert_eq!(again["deduplicated"], true);
    assert_eq!(id_of(&again), team_id);
    assert_eq!(again["memory"]["user_id"], "alice");

    // Authors may change their own memories.
    let own = bob
        .ok(
            "update_memory",
            json!({"id": bobs_id, "content": "Staging is reset every night at 03:00"}),
        )
        .await;
    assert_eq!(own["memory"]["user_id"], "bob");

    match backend {
        Backend::Postgres => {
            // Without a token the session has read and write, not admin.
            let refused = bob
                .err(
                    "update_memory",
                    json!({"id": team_id, "content": "Bob rewrote this"}),
                )
                .await;
            assert!(refused.contains("admin"), "{refused}");
            let refused = bob.err("delete_memory", json!({"id": team_id})).await;
            assert!(refused.contains("admin"), "{refused}");
            let got = alice.ok("get_memory", json!({"id": team_id})).await;
            assert_eq!(got["memory"], team["memory"], "unchanged");
            // delete_all without admin deletes only one's own.
            let dry = bob
                .ok(
                    "delete_all_memories",
                    json!({"confirm": true, "dry_run": true}),
                )
                .await;
            assert_eq!(dry["deleted"], 1);
            let wiped = bob
                .ok("delete_all_memories", json!({"confirm": true}))
                .await;
            assert_eq!(wiped["deleted"], 1);
            let left = alice.ok("list_memories", json!({})).await;
            assert_eq!(ids(&left, "memories"), [team_id.as_str()]);
            let history = alice.ok("memory_history", json!({"id": team_id})).await;
            assert_eq!(history["events"].as_array().unwrap().len(), 1);
        }
        Backend::Sqlite => {
            // The embedded database's owner is an admin.
            let changed = bob
                .ok(
                    "update_memory",
                    json!({"id": team_id, "content": "Bob rewrote this"}),
                )
                .await;
            assert_eq!(changed["memory"]["content"], "Bob rewrote this");
            assert_eq!(changed["memory"]["user_id"], "alice", "the author stays");
            let history = alice.ok("memory_history", json!({"id": team_id})).await;
            let events = history["events"].as_array().unwrap();
            assert_eq!(events[0]["actor"], "alice");
            assert_eq!(events[1]["event"], "UPDATE");
            assert_eq!(events[1]["actor"], "bob");
            bob.ok("delete_memory", json!({"id": team_id})).await;
            let left = alice.ok("list_memories", json!({})).await;
            assert_eq!(ids(&left, "memories"), [bobs_id.as_str()]);
        }
    }
    assert_eq!(
        total(&alice_private).await,
        1,
        "the private scope is untouched"
    );

    alice.shutdown().await;
    bob.shutdown().await;
    alice_private.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 7. Auto mode

fn fake_repo(url: &str) -> tempfile::TempDir {
    let repo = tempfile::Builder::new()
        .prefix("m0t-repo-")
        .tempdir()
        .unwrap();
    let git = repo.path().join(".git");
    std::fs::create_dir_all(git.join("refs/heads")).unwrap();
    std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(
        git.join("config"),
        format!(
            "[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote \"origin\"]\n\turl = {url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
        ),
    )
    .unwrap();
    repo
}

async fn auto_mode(backend: Backend) {
    let db = TestDb::new(backend);
    let repo = fake_repo("git@github.com:acme/widgets.git");
    let root = db.server().auto_dir(repo.path()).start().await;
    let status = root.ok("memory_status", json!({})).await;
    let project = status["project_id"].as_str().unwrap().to_string();
    let hex = project
        .strip_prefix("widgets-")
        .unwrap_or_else(|| panic!("project id from the origin remote: {project}"));
    assert!(
        hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "<name>-<8 hex>: {project}"
    );
    assert_eq!(status["mode"], "auto");
    assert_scope(&status, "alice", &project, "auto");
    let added = root
        .ok(
            "add_memory",
            json!({"content": "Widgets are built with make widgets"}),
        )
        .await;
    assert_scope(&added, "alice", &project, "auto");
    let id = id_of(&added);

    // A subdirectory of the checkout is the same project.
    let sub = repo.path().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let nested = db.server().auto_dir(&sub).start().await;
    let status = nested.ok("memory_status", json!({})).await;
    assert_eq!(status["project_id"], project.as_str());
    assert_eq!(
        ids(&nested.ok("list_memories", json!({})).await, "memories"),
        [id.as_str()]
    );

    // Another clone of the same repository (HTTPS this time) shares the project.
    let clone = fake_repo("https://github.com/acme/widgets");
    let cloned = db.server().auto_dir(clone.path()).start().await;
    let status = cloned.ok("memory_status", json!({})).await;
    assert_eq!(
        status["project_id"],
        project.as_str(),
        "clones share a project"
    );
    assert_eq!(total(&cloned).await, 1);

    // An unrelated directory is another project and sees nothing.
    let elsewhere = tempfile::Builder::new()
        .prefix("m0t-elsewhere-")
        .tempdir()
        .unwrap();
    let other = db.server().auto_dir(elsewhere.path()).start().await;
    let status = other.ok("memory_status", json!({})).await;
    assert_ne!(status["project_id"], project.as_str());
    assert_eq!(status["count"], 0);
    assert_eq!(total(&other).await, 0);
    let err = other.err("get_memory", json!({"id": id})).await;
    assert!(err.contains("no memory with id"), "{err}");

    // Without PROJECT_DIR (and a client without roots), the working directory decides.
    let in_cwd = db.server().auto_cwd(&sub).start().await;
    let status = in_cwd.ok("memory_status", json!({})).await;
    assert_eq!(
        status["project_id"],
        project.as_str(),
        "from the working directory"
    );

    // A client that offers MCP roots: the first root decides (the working directory does not).
    let mut raw = db.raw(&[("MEM0_USER_ID", "alice"), ("PROJECT_ID_MODE", "auto")]);
    raw.initialize_with(json!({"roots": {"listChanged": false}}))
        .await;
    raw.send(json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "memory_status", "arguments": {}}
    }))
    .await;
    let mut asked_for_roots = false;
    let status = loop {
        let message = raw.recv().await;
        if message["method"] == "roots/list" {
            asked_for_roots = true;
            let uri = format!("file://{}", sub.display());
            raw.send(json!({
                "jsonrpc": "2.0", "id": message["id"],
                "result": {"roots": [{"uri": uri, "name": "widgets"}]}
            }))
            .await;
        } else if message["id"] == 2 {
            break message;
        }
    };
    assert!(
        asked_for_roots,
        "the server asks a client with roots for them"
    );
    assert_eq!(
        status["result"]["structuredContent"]["project_id"],
        project.as_str(),
        "from the client's root: {status}"
    );
    raw.close_stdin();
    assert_eq!(raw.wait_exit(Duration::from_secs(30)).await.code(), Some(0));

    for server in [root, nested, cloned, other, in_cwd] {
        server.shutdown().await;
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Process lifecycle

async fn stdin_close_exits_0(backend: Backend) {
    let db = TestDb::new(backend);
    let mut server = db.raw(&[
        ("MEM0_LOG", "trace"),
        ("MEM0_USER_ID", "alice"),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "proj-life"),
    ]);
    let init = server.initialize().await;
    assert_eq!(init["result"]["serverInfo"]["name"], "mem0-mcp");

    // A line that is not JSON gets a parse error and the session goes on.
    server.send_line("this is not json").await;
    let error = server.recv().await;
    assert_eq!(error["error"]["code"], -32700, "{error}");

    server
        .send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .await;
    let tools = server.response(2).await;
    assert!(tools["result"]["tools"].as_array().unwrap().len() >= 9);
    server
        .send(json!({
            "jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "add_memory", "arguments": {"content": "Logged at trace level"}}
        }))
        .await;
    let added = server.response(3).await;
    assert_eq!(added["result"]["isError"], false, "{added}");
    server
        .send(json!({
            "jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "search_memories", "arguments": {"query": "trace"}}
        }))
        .await;
    let found = server.response(4).await;
    assert_eq!(
        found["result"]["structuredContent"]["results"][0]["content"],
        "Logged at trace level"
    );

    // An unknown tool is refused and the session goes on.
    server
        .send(json!({
            "jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": "no_such_tool", "arguments": {}}
        }))
        .await;
    let unknown = server.response(5).await;
    assert!(
        unknown.get("error").is_some() || unknown["result"]["isError"] == true,
        "{unknown}"
    );
    server
        .send(json!({"jsonrpc": "2.0", "id": 6, "method": "ping"}))
        .await;
    assert!(server.response(6).await["result"].is_object());

    server.close_stdin();
    let status = server.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "closing stdin ends the server cleanly\nstderr:\n{}",
        server.stderr()
    );
    // Every stdout line was a JSON-RPC message (checked as read); the trace log went to stderr.
    assert!(server.lines.len() >= 5);
    let stderr = server.stderr();
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "MEM0_LOG=trace logs to stderr"
    );
}

async fn sigterm_exits_0(backend: Backend) {
    signal_exits_0(backend, "-TERM").await;
}

async fn sigint_exits_0(backend: Backend) {
    signal_exits_0(backend, "-INT").await;
}

async fn signal_exits_0(backend: Backend, signal: &str) {
    let db = TestDb::new(backend);
    let mut server = db.raw(&[
        ("MEM0_LOG", "trace"),
        ("MEM0_USER_ID", "alice"),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "proj-life"),
    ]);
    server.initialize().await;
    server
        .send(json!({
            "jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "memory_status", "arguments": {}}
        }))
        .await;
    let status = server.response(2).await;
    assert_eq!(
        status["result"]["structuredContent"]["backend"],
        backend.name()
    );

    let killed = std::process::Command::new("kill")
        .args([signal, &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let exit = server.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(
        exit.code(),
        Some(0),
        "{signal} ends the server cleanly\nstderr:\n{}",
        server.stderr()
    );
    assert!(server.lines.len() >= 2);
}

// ---------------------------------------------------------------------------------------------
// 9. Connection loss (PostgreSQL)

/// Ends every connection the server holds to the test database, and waits until they are gone.
async fn terminate_connections(db: &TestDb) {
    let name = &db.pg().name;
    let terminated = admin_scalar(format!(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()) AS t"
    ))
    .await;
    assert!(
        terminated >= 1,
        "the server should hold a pooled connection to terminate"
    );
    for _ in 0..600 {
        let left = admin_scalar(format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await;
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("terminated backends of {name} did not go away within 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_loss_is_survived() {
    let db = TestDb::new(Backend::Postgres);
    let s = db.server().start().await;
    let added = s
        .ok(
            "add_memory",
            json!({"content": "Written before the outage"}),
        )
        .await;
    let id = id_of(&added);

    // The first call after the connections die must succeed: no retry here.
    terminate_connections(&db).await;
    let listed = s.ok("list_memories", json!({})).await;
    assert_eq!(ids(&listed, "memories"), [id.as_str()]);

    terminate_connections(&db).await;
    s.ok("add_memory", json!({"content": "Written after the outage"}))
        .await;

    terminate_connections(&db).await;
    let found = search(&s, "outage").await;
    assert_eq!(found["results"].as_array().unwrap().len(), 2, "{found:#}");

    terminate_connections(&db).await;
    s.ok("update_memory", json!({"id": id, "tags": ["survived"]}))
        .await;
    assert_eq!(total(&s).await, 2);
    s.shutdown().await;
}

/// A database that does not answer in time makes the call fail cleanly (and change nothing);
/// the next call, once the database answers again, works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_slow_database_times_out_cleanly() {
    use sqlx::Connection;
    let db = TestDb::new(Backend::Postgres);
    let s = db.server().env("MEM0_TIMEOUT", "2").start().await;
    s.ok("add_memory", json!({"content": "Stored before the lock"}))
        .await;

    let mut locker = sqlx::PgConnection::connect(&db.pg().url).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE memories IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let (_, is_error, text) = s
        .call("add_memory", json!({"content": "Stored during the lock"}))
        .await;
    assert!(is_error, "a call blocked past MEM0_TIMEOUT fails: {text}");
    assert!(
        !text.contains("SQLSTATE") && !text.to_lowercase().contains("sqlx"),
        "no database internals: {text}"
    );
    lock.rollback().await.unwrap();
    locker.close().await.unwrap();

    let listed = s.ok("list_memories", json!({})).await;
    assert_eq!(
        contents(&listed, "memories"),
        ["Stored before the lock"],
        "the timed-out add changed nothing"
    );
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 10. Exit codes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unmigrated_database_exits_4() {
    let db = TestDb::unmigrated(Backend::Postgres);
    let env = [
        ("MEM0_USER_ID", "alice"),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "p"),
    ];
    let serve = db.run(&["serve"], &env);
    assert_eq!(
        serve.code,
        Some(4),
        "serve on an unmigrated database: {serve:?}"
    );
    assert!(
        serve.stderr.lines().any(|l| l.contains("mem0-mcp migrate")),
        "stderr names `mem0-mcp migrate`: {}",
        serve.stderr
    );
    assert!(
        serve.stdout.is_empty(),
        "nothing on stdout: {}",
        serve.stdout
    );
    // No command means serve.
    let default = db.run(&[], &env);
    assert_eq!(default.code, Some(4), "{default:?}");

    let status = db.run(&["migrate", "--status"], &[]);
    assert_eq!(
        status.code,
        Some(4),
        "migrate --status with pending: {status:?}"
    );
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(!migrations.is_empty());
    for migration in &migrations {
        let line = status
            .stdout
            .lines()
            .find(|l| l.contains(migration.as_str()))
            .unwrap_or_else(|| panic!("{migration} is listed: {}", status.stdout));
        assert!(line.contains("pending"), "{line}");
    }
    assert!(
        status.stderr.contains("mem0-mcp migrate"),
        "{}",
        status.stderr
    );

    // Once migrated, both are happy.
    let migrate = db.run(&["migrate"], &[]);
    assert_eq!(migrate.code, Some(0), "{migrate:?}");
    let status = db.run(&["migrate", "--status"], &[]);
    assert_eq!(status.code, Some(0), "{status:?}");
    for migration in &migrations {
        assert!(
            status
                .stdout
                .lines()
                .any(|l| l.contains(migration.as_str()) && l.contains("applied")),
            "{}",
            status.stdout
        );
    }
    let again = db.run(&["migrate"], &[]);
    assert_eq!(again.code, Some(0), "migrate is idempotent: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_database_exits_4() {
    let db = TestDb::unmigrated(Backend::Sqlite);
    let env = [
        (
            "MEM0_DATABASE_URL",
            "postgresql://postgres@127.0.0.1:1/mem0_unreachable",
        ),
        ("MEM0_USER_ID", "alice"),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "p"),
    ];
    for args in [
        &["serve"][..],
        &["migrate"][..],
        &["migrate", "--status"][..],
    ] {
        let out = db.run(args, &env);
        assert_eq!(
            out.code,
            Some(4),
            "{args:?} with PostgreSQL unreachable: {out:?}"
        );
        let line = out.stderr.trim_end().lines().last().unwrap_or_default();
        assert!(
            line.contains("connect") && line.contains("MEM0_DATABASE_URL"),
            "one clear line saying what failed and what to check: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty() || args[0] == "migrate", "{out:?}");
    }
}

async fn bad_project_mode_exits_2(backend: Backend) {
    let db = TestDb::new(backend);
    for (env, names) in [
        (vec![("PROJECT_ID_MODE", "team")], "PROJECT_ID_MODE"),
        (vec![("PROJECT_ID_MODE", "manual")], "PROJECT_ID"),
        (vec![("MEM0_TIMEOUT", "soon")], "MEM0_TIMEOUT"),
    ] {
        for args in [&["serve"][..], &[][..]] {
            let out = db.run(args, &env);
            assert_eq!(out.code, Some(2), "{env:?} {args:?}: {out:?}");
            assert!(out.stderr.contains(names), "{}", out.stderr);
            assert!(out.stdout.is_empty(), "{}", out.stdout);
        }
    }
}
