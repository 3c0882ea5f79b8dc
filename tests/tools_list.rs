//! The public surface of the server: `tools/list` (names, descriptions, input and output
//! schemas, annotations) is snapshot-tested, so every change to it is a reviewed change.
//! Rerun with `UPDATE_SNAPSHOTS=1 cargo test --test tools_list` to accept a deliberate change.

mod common;

use std::path::PathBuf;

use common::{Backend, TestDb};
use serde_json::{Value, json};

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

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools_list.json")
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

/// The listed tools as pretty JSON, sorted by name.
async fn listed_tools(backend: Backend) -> (Vec<Value>, String) {
    let db = TestDb::new(backend).await;
    let server = db.server().start().await;
    let tools = server.list_tools().await;
    let mut tools: Vec<Value> = tools
        .iter()
        .map(|t| canonical(serde_json::to_value(t).expect("tool serializes")))
        .collect();
    tools.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let pretty = serde_json::to_string_pretty(&Value::Array(tools.clone())).unwrap() + "\n";
    server.shutdown().await;
    (tools, pretty)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_matches_snapshot() {
    let (_, actual) = listed_tools(Backend::Sqlite).await;
    let path = snapshot_path();
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot at {}: run `UPDATE_SNAPSHOTS=1 cargo test --test tools_list` to create it",
            path.display()
        )
    });
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .map(|(i, (e, a))| format!("line {}:\n  snapshot: {e}\n  server:   {a}", i + 1))
            .unwrap_or_else(|| "one is a prefix of the other".into());
        panic!(
            "tools/list differs from {} ({first_difference}).\n\
             The public tool surface changed. If the change is deliberate, rerun with \
             UPDATE_SNAPSHOTS=1 cargo test --test tools_list and commit the new snapshot.",
            path.display()
        );
    }
}

/// Without tokens, a PostgreSQL session may read and write: it lists the same tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lists_the_same_tools_as_sqlite() {
    let (pg, _) = listed_tools(Backend::Postgres).await;
    let (sqlite, _) = listed_tools(Backend::Sqlite).await;
    assert_eq!(pg, sqlite);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_carry_annotations_and_schemas() {
    let (tools, _) = listed_tools(Backend::Sqlite).await;
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
    let db = TestDb::new(backend).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_aliases_are_hidden_but_callable() {
    aliases_are_hidden_but_callable(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_aliases_are_hidden_but_callable() {
    aliases_are_hidden_but_callable(Backend::Postgres).await;
}
