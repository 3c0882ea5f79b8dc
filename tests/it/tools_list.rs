//! The public surface of the server: `tools/list` (names, descriptions, input and output
//! schemas, annotations) is snapshot-tested, one file per tool in `tests/snapshots/tools/`
//! (as github-mcp-server's `__toolsnaps__`), so every change to it is a reviewed change that
//! shows in the diff of that tool's file. Rerun with
//! `UPDATE_SNAPSHOTS=1 cargo test --test it tools_list` to accept a deliberate change.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Backend, TestDb};

on_both_backends!(aliases_are_hidden_but_callable);

const ALIASES: [&str; 4] = [
    "add_coding_preference",
    "search_coding_preferences",
    "get_all_coding_preferences",
    "get_memory_history",
];

const TOOLS: [&str; 9] = [
    "add_memory",
    "delete_all_memories",
    "delete_memory",
    "get_memory",
    "list_memories",
    "memory_history",
    "memory_status",
    "search_memories",
    "update_memory",
];

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools")
}

/// The snapshot files there, by tool name.
fn snapshot_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p.clone())))
        .collect();
    files.sort();
    files
}

/// A tool as its snapshot file holds it: pretty JSON, keys sorted, one newline at the end.
fn snapshot_text(tool: &Value) -> String {
    serde_json::to_string_pretty(tool).expect("tool serializes") + "\n"
}

/// The same value with every object's keys in sorted order, so the snapshot does not depend on
/// whether serde_json preserves insertion order.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The listed tools as canonical JSON, sorted by name.
async fn listed_tools(backend: Backend) -> Vec<Value> {
    let db = TestDb::new(backend);
    let server = db.server().start().await;
    let tools = server.list_tools().await;
    let mut tools: Vec<Value> = tools
        .iter()
        .map(|t| canonical(serde_json::to_value(t).expect("tool serializes")))
        .collect();
    tools.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    server.shutdown().await;
    tools
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_matches_snapshot() {
    let tools = listed_tools(Backend::Sqlite).await;
    let dir = snapshot_dir();
    let name_of = |tool: &Value| tool["name"].as_str().expect("a tool name").to_string();
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, path) in snapshot_files(&dir) {
            if !tools.iter().any(|t| name_of(t) == name) {
                std::fs::remove_file(path).unwrap();
            }
        }
        for tool in &tools {
            std::fs::write(
                dir.join(format!("{}.json", name_of(tool))),
                snapshot_text(tool),
            )
            .unwrap();
        }
        return;
    }
    let mut differences = Vec::new();
    for tool in &tools {
        let name = name_of(tool);
        let path = dir.join(format!("{name}.json"));
        let actual = snapshot_text(tool);
        let Ok(expected) = std::fs::read_to_string(&path) else {
            differences.push(format!(
                "{name}: a new tool, no snapshot at {}",
                path.display()
            ));
            continue;
        };
        if expected != actual {
            let first_difference = expected
                .lines()
                .zip(actual.lines())
                .enumerate()
                .find(|(_, (e, a))| e != a)
                .map(|(i, (e, a))| format!("line {}:\n  snapshot: {e}\n  server:   {a}", i + 1))
                .unwrap_or_else(|| "one is a prefix of the other".into());
            differences.push(format!(
                "{name} differs from {} ({first_difference})",
                path.display()
            ));
        }
    }
    for (name, path) in snapshot_files(&dir) {
        if !tools.iter().any(|t| name_of(t) == name) {
            differences.push(format!(
                "{name} is no longer listed, but {} exists",
                path.display()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "tools/list differs from the snapshots:\n{}\n\
         The public tool surface changed. If the change is deliberate, rerun with \
         UPDATE_SNAPSHOTS=1 cargo test --test it tools_list and commit the new snapshots.",
        differences.join("\n")
    );
}

/// Without tokens, a PostgreSQL session may read and write: it lists the same tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lists_the_same_tools_as_sqlite() {
    let pg = listed_tools(Backend::Postgres).await;
    let sqlite = listed_tools(Backend::Sqlite).await;
    assert_eq!(pg, sqlite);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_carry_annotations_and_schemas() {
    let tools = listed_tools(Backend::Sqlite).await;
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, TOOLS, "exactly the documented tools, sorted");
    for tool in &tools {
        let name = tool["name"].as_str().unwrap();
        let description = tool["description"].as_str().unwrap_or_default();
        assert!(
            description.len() > 40,
            "{name}: a description that says when to use it"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        let annotations = &tool["annotations"];
        for hint in [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        ] {
            assert!(annotations[hint].is_boolean(), "{name}: {hint} missing");
        }
        let read_only = [
            "search_memories",
            "list_memories",
            "get_memory",
            "memory_history",
            "memory_status",
        ]
        .contains(&name);
        assert_eq!(annotations["readOnlyHint"], read_only, "{name}");
        let destructive = ["update_memory", "delete_memory", "delete_all_memories"].contains(&name);
        assert_eq!(annotations["destructiveHint"], destructive, "{name}");
        assert_eq!(annotations["openWorldHint"], false, "{name}");
        // Every result names its scope.
        let required = tool["outputSchema"]["required"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            required.contains(&json!("scope")),
            "{name}: the output schema must require scope"
        );
    }
}

async fn aliases_are_hidden_but_callable(backend: Backend) {
    let db = TestDb::new(backend);
    let server = db.server().start().await;
    let listed: Vec<String> = server
        .list_tools()
        .await
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    for alias in ALIASES {
        assert!(!listed.iter().any(|n| n == alias), "{alias} is listed");
    }

    let added = server
        .ok(
            "add_coding_preference",
            json!({"text": "Prefer tabs over spaces in Makefiles"}),
        )
        .await;
    assert_eq!(added["deduplicated"], false);
    let id = added["memory"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        added["memory"]["content"],
        "Prefer tabs over spaces in Makefiles"
    );

    let found = server
        .ok(
            "search_coding_preferences",
            json!({"query": "Makefiles", "limit": 5}),
        )
        .await;
    assert_eq!(found["results"][0]["id"], id.as_str());

    let all = server.ok("get_all_coding_preferences", json!({})).await;
    assert_eq!(all["total"], 1);
    assert_eq!(all["memories"][0]["id"], id.as_str());
    let all_no_args = server.ok("get_all_coding_preferences", Value::Null).await;
    assert_eq!(all_no_args["total"], 1);

    let history = server
        .ok("get_memory_history", json!({"memory_id": id}))
        .await;
    assert_eq!(history["events"][0]["event"], "ADD");
    assert_eq!(history["events"].as_array().unwrap().len(), 1);

    // What the alias stored is what the new tools see.
    let got = server.ok("get_memory", json!({"id": id})).await;
    assert_eq!(
        got["memory"]["content"],
        "Prefer tabs over spaces in Makefiles"
    );
    server.shutdown().await;
}
