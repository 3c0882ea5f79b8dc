//! Expiry through the real binary, on both backends: `expires_at` on add and update (a past or
//! malformed time is a tool error), an expired memory behaves as deleted for every tool, is
//! purged with its history kept, and `memory_status` counts what expires within 7 days. A
//! memory is made to expire by moving its time into the past in the database, as the clock
//! would, so no test waits.

use serde_json::{Value, json};

use crate::support::{Backend, TestDb};

on_both_backends!(
    expires_at_is_checked_and_shown,
    expired_memories_behave_as_deleted
);

fn id_of(added: &Value) -> String {
    added["memory"]["id"]
        .as_str()
        .expect("memory id")
        .to_string()
}

/// SQL that makes the memory `id` expired a minute ago.
fn expire_sql(backend: Backend, id: &str) -> String {
    match backend {
        Backend::Postgres => format!(
            "UPDATE memories SET expires_at = now() - interval '1 minute' WHERE id = '{id}'"
        ),
        Backend::Sqlite => format!(
            "UPDATE memories SET expires_at = '2020-01-01T00:00:00.000000Z' WHERE id = '{id}'"
        ),
    }
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn expires_at_is_checked_and_shown(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().manual("proj-expiry").start().await;

    for (bad, why) in [
        ("2020-01-01T00:00:00Z", "not in the future"),
        ("next friday", "not an RFC 3339 time"),
        ("2030-01-01", "not an RFC 3339 time"),
        ("2030-01-01T10:00:00", "not an RFC 3339 time"),
    ] {
        let error = s
            .err(
                "add_memory",
                json!({"content": "Freeze", "expires_at": bad}),
            )
            .await;
        assert!(error.contains(why), "{bad}: {error}");
        assert!(error.contains(bad), "names the value: {error}");
    }
    assert_eq!(
        s.ok("memory_status", json!({})).await["count"],
        0,
        "nothing stored"
    );

    let lasting = s.ok("add_memory", json!({"content": "Uses pnpm"})).await;
    assert_eq!(lasting["memory"]["expires_at"], Value::Null);
    let soon = in_days(3);
    let freeze = s
        .ok(
            "add_memory",
            json!({"content": "Deploy freeze until Friday", "expires_at": soon}),
        )
        .await;
    let freeze_id = id_of(&freeze);
    let shown = freeze["memory"]["expires_at"].as_str().expect("expires_at");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(shown).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&soon).unwrap()
    );
    assert!(shown.ends_with('Z'), "{shown}");
    let quarter = s
        .ok(
            "add_memory",
            json!({"content": "Quarter plan", "expires_at": in_days(60)}),
        )
        .await;

    let status = s.ok("memory_status", json!({})).await;
    assert_eq!(status["count"], 3);
    assert_eq!(status["expiring_within_7_days"], 1);

    // Update: a past time is refused, null clears, a new time is set.
    let error = s
        .err(
            "update_memory",
            json!({"id": freeze_id, "expires_at": "2001-01-01T00:00:00+02:00"}),
        )
        .await;
    assert!(error.contains("not in the future"), "{error}");
    let kept = s
        .ok("update_memory", json!({"id": freeze_id, "tags": ["ops"]}))
        .await;
    assert_eq!(
        kept["memory"]["expires_at"], freeze["memory"]["expires_at"],
        "omitted keeps it"
    );
    let cleared = s
        .ok(
            "update_memory",
            json!({"id": freeze_id, "expires_at": null}),
        )
        .await;
    assert_eq!(cleared["memory"]["expires_at"], Value::Null);
    let moved = s
        .ok(
            "update_memory",
            json!({"id": id_of(&quarter), "expires_at": in_days(2)}),
        )
        .await;
    assert!(moved["memory"]["expires_at"].is_string());
    let status = s.ok("memory_status", json!({})).await;
    assert_eq!(status["expiring_within_7_days"], 1, "{status}");
    assert!(
        status["expiring_within_7_days"].is_u64(),
        "{}",
        status["expiring_within_7_days"]
    );
    s.shutdown().await;
}

async fn expired_memories_behave_as_deleted(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().manual("proj-expired").start().await;
    let keep = s
        .ok(
            "add_memory",
            json!({"content": "Lasting note about the freeze"}),
        )
        .await;
    let gone = s
        .ok(
            "add_memory",
            json!({"content": "Freeze on release-2.4 branch", "tags": ["ops"], "expires_at": in_days(1)}),
        )
        .await;
    let gone_id = id_of(&gone);
    db.execute(&expire_sql(backend, &gone_id)).await;

    let error = s.err("get_memory", json!({"id": gone_id})).await;
    assert!(error.contains("no memory with id"), "{error}");
    for query in ["freeze", "release-2.4"] {
        let found = s.ok("search_memories", json!({"query": query})).await;
        let ids: Vec<&str> = found["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert!(!ids.contains(&gone_id.as_str()), "{query}: {found}");
    }
    let listed = s.ok("list_memories", json!({})).await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["memories"][0]["id"], keep["memory"]["id"]);
    let tagged = s.ok("list_memories", json!({"tags": ["ops"]})).await;
    assert_eq!(tagged["total"], 0, "{tagged}");
    assert_eq!(s.ok("memory_status", json!({})).await["count"], 1);
    for tool in ["update_memory", "delete_memory"] {
        let mut args = json!({"id": gone_id});
        if tool == "update_memory" {
            args["content"] = json!("Revived");
        }
        let error = s.err(tool, args).await;
        assert!(error.contains("no memory with id"), "{tool}: {error}");
    }

    // Purged, and its history says so.
    let history = s.ok("memory_history", json!({"id": gone_id})).await;
    let events: Vec<(&str, &str)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(events[0].0, "ADD");
    assert_eq!(events[1], ("DELETE", "mem0-mcp (expired)"), "{history}");
    let rows = db
        .query_text(&format!(
            "SELECT count(*) || '' FROM memories WHERE id = '{gone_id}'"
        ))
        .await;
    assert_eq!(rows.as_deref(), Some("0"), "the row is gone");

    // Its content may be stored again.
    let again = s
        .ok(
            "add_memory",
            json!({"content": "Freeze on release-2.4 branch"}),
        )
        .await;
    assert_eq!(again["deduplicated"], false);
    assert_ne!(id_of(&again), gone_id);
    s.shutdown().await;
}
