//! Text that is not plain ASCII English, on both backends: one spelling of a word typed in two
//! Unicode forms (NFC, NFD) is one memory and finds itself either way; a word found without its
//! diacritics; words inside scripts written without spaces; emoji.

use serde_json::json;

use crate::support::{Backend, TestDb};

on_both_backends!(nfc_and_nfd_are_one_text, every_script_is_searchable);

async fn every_script_is_searchable(backend: Backend) {
    let db = TestDb::new(backend);
    let server = db.server().manual("proj-scripts").start().await;
    let mut ids = Vec::new();
    for content in [
        "このリポジトリは pnpm を使う。部署は東京",
        "Release checklist: 🚀 means shipped",
        "Office in Zürich, near the Hauptbahnhof",
        "회의는 서울에서 열립니다",
        "plain English: the build uses cargo",
    ] {
        let added = server.ok("add_memory", json!({"content": content})).await;
        ids.push(added["memory"]["id"].as_str().unwrap().to_owned());
    }
    for (query, expected) in [
        ("東京", 0),
        ("リポジトリ", 0),
        ("部署", 0),
        ("pnpm", 0),
        ("🚀", 1),
        ("what does 🚀 mean?", 1),
        ("zurich", 2),
        ("Zürich", 2),
        ("ZURICH office", 2),
        ("서울", 3),
        ("cargo", 4),
    ] {
        let found = server.ok("search_memories", json!({"query": query})).await;
        assert_eq!(
            found["results"][0]["id"],
            ids[expected].as_str(),
            "{query:?} did not find {expected} first: {found}"
        );
    }
    // Updating the content re-indexes its extra words.
    server
        .ok(
            "update_memory",
            json!({"id": ids[2], "content": "Office moved to Malmö"}),
        )
        .await;
    let found = server
        .ok("search_memories", json!({"query": "malmo"}))
        .await;
    assert_eq!(found["results"][0]["id"], ids[2].as_str(), "{found}");
    let found = server
        .ok("search_memories", json!({"query": "zurich"}))
        .await;
    assert_eq!(
        found["results"].as_array().map(Vec::len),
        Some(0),
        "{found}"
    );
    server.shutdown().await;
}

async fn nfc_and_nfd_are_one_text(backend: Backend) {
    let db = TestDb::new(backend);
    let server = db.server().manual("proj-unicode").start().await;
    let nfc = "Office in Z\u{fc}rich, caf\u{e9} downstairs";
    let nfd = "Office in Zu\u{308}rich, cafe\u{301} downstairs";
    assert_ne!(nfc, nfd);

    let first = server
        .ok(
            "add_memory",
            json!({"content": nfc, "tags": ["z\u{fc}rich"]}),
        )
        .await;
    assert_eq!(first["deduplicated"], false);
    let second = server
        .ok(
            "add_memory",
            json!({"content": nfd, "tags": ["zu\u{308}rich"]}),
        )
        .await;
    assert_eq!(
        second["deduplicated"], true,
        "NFD spelling stored twice: {second}"
    );
    assert_eq!(second["memory"]["id"], first["memory"]["id"]);
    assert_eq!(first["memory"]["content"], nfc, "stored in NFC");
    assert_eq!(first["memory"]["tags"], json!(["z\u{fc}rich"]));

    for query in ["Z\u{fc}rich", "Zu\u{308}rich", "cafe\u{301}", "caf\u{e9}"] {
        let found = server.ok("search_memories", json!({"query": query})).await;
        assert_eq!(
            found["results"][0]["id"], first["memory"]["id"],
            "{query:?} did not find it: {found}"
        );
    }
    let tagged = server
        .ok("list_memories", json!({"tags": ["zu\u{308}rich"]}))
        .await;
    assert_eq!(tagged["total"], 1, "{tagged}");
    let updated = server
        .ok(
            "update_memory",
            json!({"id": first["memory"]["id"], "content": "Office in Zu\u{308}rich moved"}),
        )
        .await;
    assert_eq!(updated["memory"]["content"], "Office in Z\u{fc}rich moved");
    server.shutdown().await;
}
