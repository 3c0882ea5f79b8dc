//! How search ranks, through the real binary: the two backends give the same results in the
//! same order with the same scores; a rare word outweighs common ones; an index kept in the
//! server follows writes made by another process and by hand.

use serde_json::{Value, json};

use crate::support::{Backend, TestDb};

on_both_backends!(
    rare_words_outweigh_common_ones,
    writes_elsewhere_show_in_the_next_search
);

/// Memories of one project: many share `team`, `release`, `deploy` and `decided`; a few hold
/// the rare words the questions ask about.
fn corpus() -> Vec<String> {
    let subjects = [
        "The platform team",
        "The web team",
        "The data team",
        "Our release crew",
        "The mobile team",
        "The infra team",
    ];
    let decisions = [
        "decided to deploy on Fridays only after the release review",
        "decided that every release needs a changelog entry",
        "deploys the release branch through GitHub Actions",
        "decided to keep release notes in docs/releases",
        "moved the deploy scripts to scripts/deploy",
    ];
    let mut out = Vec::new();
    for (i, subject) in subjects.iter().enumerate() {
        for (j, decision) in decisions.iter().enumerate() {
            out.push(format!("{subject} {decision} (note {i}{j})"));
        }
    }
    out.extend(
        [
            "Maria's team decided to freeze the release on December 12",
            "Deploys go through Fly.io from main; staging is fly-staging",
            "This repo uses pnpm, never npm; the lockfile is pnpm-lock.yaml",
            "The config lives in config/file-17.yaml next to file-18.yaml",
            "Configuration files are validated by the schema in schema/config.json",
            "Kenji prefers tabs over spaces in the Go services",
            "Database migrations run with sqlx migrate before each deploy",
            "The on-call rotation changes every Monday at 09:00 UTC",
            "会議は東京で毎週月曜日に行います",
            "Release checklist: 🚀 means shipped, 🧪 means in QA",
        ]
        .map(String::from),
    );
    out
}

/// Questions of every shape: natural language, possessives, identifiers, common words only,
/// stems and prefixes, other scripts.
const QUESTIONS: [&str; 14] = [
    "What did Maria's team decide about the release?",
    "how do we deploy to fly?",
    "pnpm-lock.yaml",
    "file-17.yaml",
    "which package manager does this repo use",
    "release team decided",
    "deploying",
    "config",
    "who prefers tabs?",
    "when do migrations run",
    "東京",
    "🚀",
    "on-call rotation Monday",
    "release",
];

async fn load(backend: Backend) -> (TestDb, crate::support::McpClient) {
    let db = TestDb::new(backend);
    let server = db.server().manual("proj-ranking").start().await;
    for content in corpus() {
        server.ok("add_memory", json!({"content": content})).await;
    }
    (db, server)
}

/// (content, score) of each result, best first.
fn results(found: &Value) -> Vec<(String, f64)> {
    found["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|m| {
            (
                m["content"].as_str().unwrap().to_string(),
                m["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_rank_alike() {
    let (sqlite_db, sqlite) = load(Backend::Sqlite).await;
    let (pg_db, postgres) = load(Backend::Postgres).await;
    for question in QUESTIONS {
        let args = json!({"query": question, "limit": 10});
        let a = results(&sqlite.ok("search_memories", args.clone()).await);
        let b = results(&postgres.ok("search_memories", args).await);
        assert!(!a.is_empty(), "{question:?} found nothing");
        let contents = |r: &[(String, f64)]| r.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
        assert_eq!(
            contents(&a),
            contents(&b),
            "{question:?}: the backends rank differently"
        );
        for ((_, x), (_, y)) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() < 1e-9,
                "{question:?}: scores {x} and {y} differ"
            );
        }
        for window in a.windows(2) {
            assert!(
                window[0].1 >= window[1].1,
                "{question:?}: not best first: {a:?}"
            );
        }
        assert!(
            a.iter().all(|(_, s)| *s > 0.0 && *s <= 1.0),
            "{question:?}: {a:?}"
        );
    }
    sqlite.shutdown().await;
    postgres.shutdown().await;
    drop((sqlite_db, pg_db));
}

async fn rare_words_outweigh_common_ones(backend: Backend) {
    let (_db, server) = load(backend).await;
    for (question, first) in [
        (
            "What did Maria's team decide about the release?",
            "Maria's team",
        ),
        ("how do we deploy to fly?", "Deploys go through Fly.io"),
        ("pnpm-lock.yaml", "This repo uses pnpm"),
        ("file-17.yaml", "The config lives in config/file-17.yaml"),
        (
            "which package manager does this repo use",
            "This repo uses pnpm",
        ),
        ("when do migrations run", "Database migrations run"),
        ("who prefers tabs?", "Kenji prefers tabs"),
        ("東京", "会議は東京"),
        ("🚀", "Release checklist"),
    ] {
        let found = results(
            &server
                .ok("search_memories", json!({"query": question, "limit": 5}))
                .await,
        );
        assert!(
            found.first().is_some_and(|(c, _)| c.starts_with(first)),
            "{question:?} should find {first:?} first: {found:?}"
        );
    }
    // A prefix finds longer words, but an exact word ranks above them.
    let found = results(
        &server
            .ok("search_memories", json!({"query": "config", "limit": 3}))
            .await,
    );
    assert!(found[0].0.starts_with("The config lives"), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(c, _)| c.starts_with("Configuration files")),
        "{found:?}"
    );
    server.shutdown().await;
}

async fn writes_elsewhere_show_in_the_next_search(backend: Backend) {
    let db = TestDb::new(backend);
    let reader = db.server().manual("proj-fresh").start().await;
    let writer = db.server().manual("proj-fresh").start().await;
    let first = writer
        .ok(
            "add_memory",
            json!({"content": "The staging database is called kestrel"}),
        )
        .await;
    let id = first["memory"]["id"].as_str().unwrap().to_string();
    let found = |v: &Value| results(v).into_iter().map(|(c, _)| c).collect::<Vec<_>>();
    // The reader indexes the scope.
    let seen = reader
        .ok("search_memories", json!({"query": "kestrel"}))
        .await;
    assert_eq!(found(&seen).len(), 1, "{seen}");

    // Another process adds, edits and deletes; each shows at once.
    writer
        .ok(
            "add_memory",
            json!({"content": "The production database is called osprey"}),
        )
        .await;
    let seen = reader
        .ok("search_memories", json!({"query": "osprey"}))
        .await;
    assert_eq!(
        found(&seen),
        ["The production database is called osprey"],
        "{seen}"
    );
    writer
        .ok(
            "update_memory",
            json!({"id": id, "content": "The staging database is called merlin"}),
        )
        .await;
    let seen = reader
        .ok("search_memories", json!({"query": "kestrel"}))
        .await;
    assert!(
        found(&seen).is_empty(),
        "an edited memory is found by its old words: {seen}"
    );
    let seen = reader
        .ok("search_memories", json!({"query": "merlin"}))
        .await;
    assert_eq!(
        found(&seen),
        ["The staging database is called merlin"],
        "{seen}"
    );
    writer.ok("delete_memory", json!({"id": id})).await;
    let seen = reader
        .ok("search_memories", json!({"query": "merlin"}))
        .await;
    assert!(
        found(&seen).is_empty(),
        "a deleted memory is still found: {seen}"
    );

    // The reader's own write, applied to its index, does not hide one made elsewhere just
    // before it.
    reader
        .ok("search_memories", json!({"query": "osprey"}))
        .await;
    writer
        .ok(
            "add_memory",
            json!({"content": "The queue is called heron"}),
        )
        .await;
    reader
        .ok("add_memory", json!({"content": "The cache is called wren"}))
        .await;
    let seen = reader
        .ok("search_memories", json!({"query": "heron wren"}))
        .await;
    let mut both = found(&seen);
    both.sort();
    assert_eq!(
        both,
        ["The cache is called wren", "The queue is called heron"],
        "{seen}"
    );
    let own = reader
        .ok(
            "add_memory",
            json!({"content": "The scheduler is called swift"}),
        )
        .await;
    let own_id = own["memory"]["id"].as_str().unwrap().to_string();
    let seen = reader
        .ok("search_memories", json!({"query": "swift"}))
        .await;
    assert_eq!(found(&seen), ["The scheduler is called swift"], "{seen}");
    reader
        .ok(
            "update_memory",
            json!({"id": own_id, "content": "The scheduler is called kite"}),
        )
        .await;
    let seen = reader
        .ok("search_memories", json!({"query": "swift kite"}))
        .await;
    assert_eq!(found(&seen), ["The scheduler is called kite"], "{seen}");
    reader.ok("delete_memory", json!({"id": own_id})).await;
    let seen = reader.ok("search_memories", json!({"query": "kite"})).await;
    assert!(found(&seen).is_empty(), "{seen}");

    // An administrator's UPDATE by hand, outside any server.
    let other = writer
        .ok(
            "add_memory",
            json!({"content": "Backups run nightly at 02:00"}),
        )
        .await;
    let other_id = other["memory"]["id"].as_str().unwrap();
    reader
        .ok("search_memories", json!({"query": "backups"}))
        .await;
    db.execute(&format!(
        "UPDATE memories SET content = 'Backups run hourly', content_hash = 'edited-by-hand' WHERE id = '{other_id}'"
    ))
    .await;
    let seen = reader
        .ok("search_memories", json!({"query": "hourly"}))
        .await;
    assert_eq!(found(&seen), ["Backups run hourly"], "{seen}");
    reader.shutdown().await;
    writer.shutdown().await;
}
