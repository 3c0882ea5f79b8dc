//! Semantic search through the real binary with the `builtin` provider and the test model
//! (see `support::model`), on both backends: paraphrases are found, vectors follow updates
//! and deletes, and a provider that cannot load leaves search lexical, never failing a call.

use serde_json::{Value, json};

use crate::support::model::{EmbeddingServer, test_model_dir};
use crate::support::{Backend, McpClient, Sandbox, TestDb};

on_both_backends!(
    paraphrases_are_found,
    a_memory_added_between_searches_is_found_by_meaning,
    vectors_follow_the_memory,
    an_expired_memory_is_not_found_by_meaning,
    a_missing_model_leaves_search_lexical,
    reindex_embeds_what_lacks_a_vector,
    an_openai_compatible_endpoint_serves_the_vectors,
    doctor_reports_the_provider,
    memory_status_reports_the_provider
);

/// Memories of a coding project, and a question for the first that shares no word with it.
const MEMORIES: &[&str] = &[
    "Deploys go through Fly.io from the main branch",
    "The office cat is called Miso and sleeps on the server rack",
    "Use tabs, not spaces, in the Makefile",
    "Database migrations live in migrations/postgres and migrations/sqlite",
];
const QUESTION: &str = "how do we ship a release?";

async fn builtin_server(db: &TestDb) -> McpClient {
    let model = test_model_dir();
    db.server()
        .env("MEM0_EMBEDDING_PROVIDER", "builtin")
        .env("MEM0_EMBEDDING_MODEL", model.to_str().unwrap())
        .start()
        .await
}

/// A server whose provider is the OpenAI-compatible endpoint at `url` (all-MiniLM-L6-v2),
/// with `key` as its API key if given.
async fn openai_server(db: &TestDb, url: &str, key: Option<&str>) -> McpClient {
    let server = db
        .server()
        .env("MEM0_EMBEDDING_PROVIDER", "openai")
        .env("MEM0_EMBEDDING_URL", url)
        .env("MEM0_EMBEDDING_MODEL", "all-MiniLM-L6-v2");
    match key {
        Some(key) => server.env("MEM0_EMBEDDING_API_KEY", key),
        None => server,
    }
    .start()
    .await
}

async fn add_all(server: &McpClient) -> Vec<String> {
    let mut ids = Vec::new();
    for content in MEMORIES {
        let added = server.ok("add_memory", json!({ "content": content })).await;
        ids.push(added["memory"]["id"].as_str().expect("id").to_string());
    }
    ids
}

/// The contents of the first three results for `query`, best first.
async fn contents(server: &McpClient, query: &str) -> Vec<String> {
    first_contents(server, query, 3).await
}

/// The contents of the first `limit` results for `query`, best first.
async fn first_contents(server: &McpClient, query: &str, limit: u32) -> Vec<String> {
    let found: Value = server
        .ok("search_memories", json!({ "query": query, "limit": limit }))
        .await;
    found["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["content"].as_str().unwrap().to_string())
        .collect()
}

async fn vector_count(db: &TestDb) -> String {
    db.query_text("SELECT CAST(count(*) AS TEXT) FROM memory_vectors")
        .await
        .unwrap()
}

async fn paraphrases_are_found(backend: Backend) {
    let db = TestDb::migrated(backend);
    // Without a provider the question shares no word with the memory: nothing is found.
    let lexical = db.server().start().await;
    add_all(&lexical).await;
    assert!(
        contents(&lexical, QUESTION).await.is_empty(),
        "lexical search found words the question does not share"
    );
    lexical.shutdown().await;
    // Memories added without a provider have no vector: found by words only until reindexed.
    assert_eq!(vector_count(&db).await, "0");

    let db = TestDb::migrated(backend);
    let server = builtin_server(&db).await;
    add_all(&server).await;
    assert_eq!(vector_count(&db).await, MEMORIES.len().to_string());
    let found = contents(&server, QUESTION).await;
    assert_eq!(
        found.first().map(String::as_str),
        Some(MEMORIES[0]),
        "{found:?}"
    );
    // Words still count: an exact term finds its memory first.
    let found = contents(&server, "Makefile tabs").await;
    assert_eq!(
        found.first().map(String::as_str),
        Some(MEMORIES[2]),
        "{found:?}"
    );
    // Scores stay numbers from best to worst.
    let results = server
        .ok("search_memories", json!({ "query": QUESTION }))
        .await;
    let scores: Vec<f64> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // A tag filter holds for memories found by meaning too.
    let tagged = server
        .ok(
            "search_memories",
            json!({ "query": QUESTION, "tags": ["ops"] }),
        )
        .await;
    assert_eq!(tagged["results"], json!([]), "{tagged:#}");
    server.shutdown().await;
}

/// The server's cached vectors follow its own adds (in place) and another server's (reloaded):
/// each search sees every vector stored before it.
async fn a_memory_added_between_searches_is_found_by_meaning(backend: Backend) {
    let db = TestDb::migrated(backend);
    let server = builtin_server(&db).await;
    for content in &MEMORIES[1..] {
        server.ok("add_memory", json!({ "content": content })).await;
    }
    let found = contents(&server, QUESTION).await;
    assert!(!found.iter().any(|c| c.contains("Fly.io")), "{found:?}");
    server
        .ok("add_memory", json!({ "content": MEMORIES[0] }))
        .await;
    let found = contents(&server, QUESTION).await;
    assert_eq!(
        found.first().map(String::as_str),
        Some(MEMORIES[0]),
        "{found:?}"
    );

    // Another server adds one, then this one adds one: the first is not lost to the second.
    // Neither shares a word with the question: only their vectors can find them.
    let other = builtin_server(&db).await;
    let theirs = "Production deployments run from the main branch on Fly.io";
    other.ok("add_memory", json!({ "content": theirs })).await;
    other.shutdown().await;
    let ours = "Deployments go out through Fly.io after review";
    server.ok("add_memory", json!({ "content": ours })).await;
    let found = first_contents(&server, QUESTION, 10).await;
    assert!(
        found.iter().any(|c| c == theirs) && found.iter().any(|c| c == ours),
        "{found:?}"
    );
    assert_eq!(vector_count(&db).await, (MEMORIES.len() + 2).to_string());

    // An administrator empties the vectors table: nothing is found by meaning any more.
    db.execute(match backend {
        Backend::Postgres => "TRUNCATE memory_vectors",
        Backend::Sqlite => "DELETE FROM memory_vectors",
    })
    .await;
    let found = contents(&server, QUESTION).await;
    assert!(found.is_empty(), "{found:?}");
    server.shutdown().await;
}

async fn vectors_follow_the_memory(backend: Backend) {
    let db = TestDb::migrated(backend);
    let server = builtin_server(&db).await;
    let ids = add_all(&server).await;
    // A second process on the same database sees the first one's vectors (and their changes).
    let other = builtin_server(&db).await;
    assert_eq!(
        contents(&other, QUESTION).await.first().map(String::as_str),
        Some(MEMORIES[0])
    );

    // New content, new vector: the old meaning is gone, the new one is found.
    server
        .ok(
            "update_memory",
            json!({ "id": ids[0], "content": "Lunch is at noon in the kitchen" }),
        )
        .await;
    assert_eq!(vector_count(&db).await, MEMORIES.len().to_string());
    let found = contents(&other, QUESTION).await;
    assert!(!found.iter().any(|c| c.contains("Fly.io")), "{found:?}");
    let found = contents(&other, "when do we eat?").await;
    assert_eq!(
        found.first().map(String::as_str),
        Some("Lunch is at noon in the kitchen"),
        "{found:?}"
    );

    // A deleted memory takes its vector along and is no longer found by meaning.
    server.ok("delete_memory", json!({ "id": ids[0] })).await;
    assert_eq!(vector_count(&db).await, (MEMORIES.len() - 1).to_string());
    let found = contents(&other, "when do we eat?").await;
    assert!(!found.iter().any(|c| c.contains("Lunch")), "{found:?}");
    server
        .ok("delete_all_memories", json!({ "confirm": true }))
        .await;
    assert_eq!(vector_count(&db).await, "0");
    assert!(contents(&other, "pets").await.is_empty());
    server.shutdown().await;
    other.shutdown().await;
}

async fn an_expired_memory_is_not_found_by_meaning(backend: Backend) {
    let db = TestDb::migrated(backend);
    let server = builtin_server(&db).await;
    let ids = add_all(&server).await;
    assert_eq!(
        contents(&server, QUESTION)
            .await
            .first()
            .map(String::as_str),
        Some(MEMORIES[0])
    );
    // Expired behind the server's back, its vector still stored: the read must leave it out.
    db.execute(&crate::expiry::expire_sql(backend, &ids[0]))
        .await;
    assert_eq!(vector_count(&db).await, MEMORIES.len().to_string());
    let found = contents(&server, QUESTION).await;
    assert!(!found.iter().any(|c| c.contains("Fly.io")), "{found:?}");
    server.shutdown().await;
}

async fn a_missing_model_leaves_search_lexical(backend: Backend) {
    let db = TestDb::migrated(backend);
    let missing = db.data_dir().join("no-such-model");
    let server = db
        .server()
        .env("MEM0_EMBEDDING_PROVIDER", "builtin")
        .env("MEM0_EMBEDDING_MODEL", missing.to_str().unwrap())
        .start()
        .await;
    add_all(&server).await;
    assert!(contents(&server, QUESTION).await.is_empty());
    let found = contents(&server, "Makefile").await;
    assert_eq!(found, vec![MEMORIES[2].to_string()]);
    contents(&server, "cat").await;
    server.shutdown().await;
    let logs = db.server_logs();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("lexical only"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning, naming the directory:\n{logs}"
    );
    assert!(
        warnings[0].contains("no-such-model") && warnings[0].contains("model install"),
        "{}",
        warnings[0]
    );
}

/// `memory_status`'s `semantic` object, once the provider has settled (it loads after the
/// handshake, in the background).
async fn settled_status(server: &McpClient) -> Value {
    for _ in 0..100 {
        let status = server.ok("memory_status", json!({})).await;
        if status["semantic"]["state"] != "not_loaded" {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the provider never left not_loaded");
}

async fn memory_status_reports_the_provider(backend: Backend) {
    let db = TestDb::migrated(backend);
    // Two memories added before any provider: they have no vector.
    let lexical = db.server().start().await;
    for content in &MEMORIES[..2] {
        lexical
            .ok("add_memory", json!({ "content": content }))
            .await;
    }
    lexical.shutdown().await;

    let server = builtin_server(&db).await;
    let status = settled_status(&server).await;
    let semantic = &status["semantic"];
    assert_eq!(semantic["provider"], "builtin", "{status:#}");
    assert_eq!(semantic["state"], "ready", "{status:#}");
    assert!(
        semantic["model"]
            .as_str()
            .is_some_and(|m| m.starts_with("builtin:")),
        "{status:#}"
    );
    assert_eq!(semantic["reason"], Value::Null);
    assert_eq!(semantic["embedded"], 0, "{status:#}");
    for content in &MEMORIES[2..] {
        server.ok("add_memory", json!({ "content": content })).await;
    }
    let status = server.ok("memory_status", json!({})).await;
    assert_eq!(status["count"], 4);
    assert_eq!(
        status["semantic"]["embedded"], 2,
        "only the new ones: {status:#}"
    );
    let (_, is_error, text) = server.call("memory_status", json!({})).await;
    assert!(!is_error);
    assert!(
        text.contains("semantic search: builtin builtin:")
            && text.contains("ready, 2 with a vector"),
        "{text}"
    );
    server.shutdown().await;

    // A model that does not load: failed, with the reason and the fix.
    let missing = db.data_dir().join("no-such-model");
    let server = db
        .server()
        .env("MEM0_EMBEDDING_PROVIDER", "builtin")
        .env("MEM0_EMBEDDING_MODEL", missing.to_str().unwrap())
        .start()
        .await;
    let status = settled_status(&server).await;
    let semantic = &status["semantic"];
    assert_eq!(semantic["state"], "failed", "{status:#}");
    assert_eq!(semantic["model"], Value::Null);
    assert_eq!(semantic["embedded"], Value::Null);
    let reason = semantic["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("no-such-model") && reason.contains("model install"),
        "{reason}"
    );
    server.shutdown().await;

    // An endpoint that stops answering: failed with the call's error, until it answers again.
    let endpoint = EmbeddingServer::start(None);
    let server = openai_server(&db, &endpoint.url, None).await;
    contents(&server, QUESTION).await;
    let status = settled_status(&server).await;
    assert_eq!(status["semantic"]["state"], "ready", "{status:#}");
    assert_eq!(status["semantic"]["model"], "openai:all-MiniLM-L6-v2");
    drop(endpoint);
    contents(&server, QUESTION).await;
    let status = server.ok("memory_status", json!({})).await;
    assert_eq!(status["semantic"]["state"], "failed", "{status:#}");
    assert!(
        status["semantic"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("last call failed")),
        "{status:#}"
    );
    server.shutdown().await;
}

async fn reindex_embeds_what_lacks_a_vector(backend: Backend) {
    let db = TestDb::migrated(backend);
    // Memories added while no provider was set, in two projects.
    let lexical = db.server().start().await;
    add_all(&lexical).await;
    lexical.shutdown().await;
    let other_project = db.server().manual("proj-other").start().await;
    other_project
        .ok(
            "add_memory",
            json!({ "content": "Releases are tagged vX.Y.Z" }),
        )
        .await;
    other_project.shutdown().await;

    let model = test_model_dir();
    let model = model.to_str().unwrap();
    let builtin = [
        ("MEM0_EMBEDDING_PROVIDER", "builtin"),
        ("MEM0_EMBEDDING_MODEL", model),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "proj-main"),
    ];
    // No provider: nothing to embed with, said as a usage error.
    db.run(&["reindex"], &[])
        .fails_with(2, "MEM0_EMBEDDING_PROVIDER");

    let out = db.run(&["reindex"], &builtin);
    out.ok();
    assert!(
        out.stdout.contains("project 'proj-main'") && out.stdout.contains("4 embedded, 0 already"),
        "{}",
        out.describe()
    );
    assert_eq!(vector_count(&db).await, "4");
    let server = builtin_server(&db).await;
    let found = contents(&server, QUESTION).await;
    assert_eq!(
        found.first().map(String::as_str),
        Some(MEMORIES[0]),
        "{found:?}"
    );

    // A vector of another model is not compared, and the next run replaces it.
    db.execute("UPDATE memory_vectors SET model = 'builtin:000000000000' WHERE vector IS NOT NULL AND memory_id IN (SELECT id FROM memories WHERE content LIKE 'Deploys%')")
        .await;
    let found = contents(&server, QUESTION).await;
    assert!(!found.iter().any(|c| c.contains("Fly.io")), "{found:?}");
    let out = db.run(&["reindex", "--all-projects"], &builtin);
    out.ok();
    assert!(
        out.stdout.contains("all projects") && out.stdout.contains("2 embedded, 3 already"),
        "{}",
        out.describe()
    );
    let found = contents(&server, QUESTION).await;
    assert_eq!(
        found.first().map(String::as_str),
        Some(MEMORIES[0]),
        "{found:?}"
    );
    // Nothing left: a rerun embeds nothing.
    let out = db.run(&["reindex", "--all-projects"], &builtin);
    assert!(
        out.stdout.contains("0 embedded, 5 already"),
        "{}",
        out.describe()
    );
    server.shutdown().await;
}

async fn an_openai_compatible_endpoint_serves_the_vectors(backend: Backend) {
    const KEY: &str = "sk-test-embedding-key-5d1f0c";
    let endpoint = EmbeddingServer::start(Some(KEY));
    let db = TestDb::migrated(backend);
    let server = openai_server(&db, &endpoint.url, Some(KEY)).await;
    add_all(&server).await;
    assert_eq!(vector_count(&db).await, MEMORIES.len().to_string());
    let found = contents(&server, QUESTION).await;
    assert_eq!(
        found.first().map(String::as_str),
        Some(MEMORIES[0]),
        "{found:?}"
    );
    server.shutdown().await;

    // A wrong key: every call still answers, lexically, and the log says why once, without
    // the key.
    let db_wrong = TestDb::migrated(backend);
    let wrong = openai_server(&db_wrong, &endpoint.url, Some("sk-wrong-key-77aa")).await;
    add_all(&wrong).await;
    assert_eq!(vector_count(&db_wrong).await, "0");
    assert!(contents(&wrong, QUESTION).await.is_empty());
    assert_eq!(
        contents(&wrong, "Makefile").await,
        vec![MEMORIES[2].to_string()]
    );
    wrong.shutdown().await;
    let logs = db_wrong.server_logs();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("falls back to lexical"))
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(
        warnings[0].contains("MEM0_EMBEDDING_API_KEY"),
        "{}",
        warnings[0]
    );
    assert!(
        !logs.contains("sk-wrong-key-77aa") && !logs.contains(KEY),
        "{logs}"
    );

    // Reindex sends batches to the endpoint: the memories added with the wrong key get theirs.
    let out = db_wrong.run(
        &["reindex", "--all-projects"],
        &[
            ("MEM0_EMBEDDING_PROVIDER", "openai"),
            ("MEM0_EMBEDDING_URL", &endpoint.url),
            ("MEM0_EMBEDDING_MODEL", "all-MiniLM-L6-v2"),
            ("MEM0_EMBEDDING_API_KEY", KEY),
        ],
    );
    assert!(out.stdout.contains("4 embedded"), "{}", out.describe());
    assert!(!out.all_output().contains(KEY));
    assert_eq!(vector_count(&db_wrong).await, "4");
}

/// The doctor's "semantic search" line, from `doctor --json` with `env`.
fn doctor_line(db: &TestDb, env: &[(&str, &str)]) -> Value {
    let out = db.run(&["doctor", "--json"], env);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}\n{}", out.describe()));
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "semantic search")
        .unwrap_or_else(|| panic!("no semantic search check:\n{}", out.describe()))
        .clone()
}

async fn doctor_reports_the_provider(backend: Backend) {
    let db = TestDb::migrated(backend);
    let lexical = db.server().start().await;
    add_all(&lexical).await;
    lexical.shutdown().await;

    let line = doctor_line(&db, &[]);
    assert!(line["ok"] == true && line["warning"] == false, "{line:#}");
    assert!(
        line["detail"].as_str().unwrap().contains("lexical only"),
        "{line:#}"
    );

    let model = test_model_dir();
    let builtin = [
        ("MEM0_EMBEDDING_PROVIDER", "builtin"),
        ("MEM0_EMBEDDING_MODEL", model.to_str().unwrap()),
    ];
    let line = doctor_line(&db, &builtin);
    assert_eq!(line["warning"], true, "{line:#}");
    let detail = line["detail"].as_str().unwrap();
    assert!(
        detail.contains("256 dimensions") && detail.contains("4 of 4 memories have no vector"),
        "{line:#}"
    );
    assert!(
        line["fix"].as_str().unwrap().contains("reindex"),
        "{line:#}"
    );
    db.run(&["reindex", "--all-projects"], &builtin).ok();
    let line = doctor_line(&db, &builtin);
    assert!(line["ok"] == true && line["warning"] == false, "{line:#}");
    assert!(
        line["detail"]
            .as_str()
            .unwrap()
            .contains("all 4 memories have a vector"),
        "{line:#}"
    );

    let missing = [
        ("MEM0_EMBEDDING_PROVIDER", "builtin"),
        ("MEM0_EMBEDDING_MODEL", "/nonexistent/model"),
    ];
    let line = doctor_line(&db, &missing);
    assert!(line["ok"] == true && line["warning"] == true, "{line:#}");
    assert!(
        line["detail"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/model"),
        "{line:#}"
    );
    assert!(
        line["fix"]
            .as_str()
            .unwrap()
            .contains("mem0-mcp model install"),
        "{line:#}"
    );
}

/// `client-config` carries the embedding settings to the client: the API key as a file
/// reference (never its value), a relative model directory made absolute.
#[test]
fn client_config_carries_the_embedding_settings() {
    let sandbox = Sandbox::new();
    let key = sandbox.write_file("embedding.key", "sk-carried-key-31c9", 0o600);
    let key = key.to_str().unwrap();
    let out = sandbox.run(
        &["client-config", "--client", "claude-desktop"],
        &[
            ("MEM0_EMBEDDING_PROVIDER", "openai"),
            ("MEM0_EMBEDDING_URL", "http://127.0.0.1:9/v1"),
            ("MEM0_EMBEDDING_MODEL", "all-minilm"),
            ("MEM0_EMBEDDING_API_KEY_FILE", key),
        ],
    );
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("\"MEM0_EMBEDDING_API_KEY_FILE\": \"{key}\"")),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("\"MEM0_EMBEDDING_URL\": \"http://127.0.0.1:9/v1\""),
        "{}",
        out.describe()
    );
    assert!(
        !out.all_output().contains("sk-carried-key-31c9"),
        "{}",
        out.describe()
    );

    let out = sandbox.run(
        &["client-config", "--client", "claude-desktop"],
        &[
            ("MEM0_EMBEDDING_PROVIDER", "builtin"),
            ("MEM0_EMBEDDING_MODEL", "models/mine"),
        ],
    );
    let absolute = sandbox.cwd().join("models/mine");
    assert!(
        out.stdout.contains(&format!(
            "\"MEM0_EMBEDDING_MODEL\": \"{}\"",
            absolute.display()
        )),
        "{}",
        out.describe()
    );
}

// `mem0-mcp model install`, against a file server the test owns that publishes checksums the
// way Hugging Face does: a git blob SHA-1 as the ETag of small files, and for the weights a
// redirect carrying the SHA-256 as X-Linked-Etag to a server whose ETag is something else.

/// What the file server answers for one path.
#[derive(Clone)]
struct Served {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A local HTTP/1.1 server answering fixed responses by path (404 otherwise); it lives as
/// long as the test process.
fn serve_files(routes: Vec<(String, Served)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes: std::collections::HashMap<String, Served> = routes.into_iter().collect();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let served = routes.get(path).cloned().unwrap_or(Served {
                status: 404,
                headers: vec![],
                body: b"not found".to_vec(),
            });
            let mut head = format!(
                "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                served.status,
                served.body.len()
            );
            for (name, value) in &served.headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&served.body);
        }
    });
    base
}

fn git_blob_sha1(bytes: &[u8]) -> String {
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The test model's files as Hugging Face serves them, under `/repo/resolve/main/`;
/// `tamper(name, etag)` may change a published checksum.
fn hub_routes(tamper: impl Fn(&str, String) -> Option<String>) -> Vec<(String, Served)> {
    let model = test_model_dir();
    let mut routes = Vec::new();
    for name in ["config.json", "tokenizer.json"] {
        let body = std::fs::read(model.join(name)).unwrap();
        let etag = tamper(name, git_blob_sha1(&body));
        let headers = etag
            .map(|e| vec![("ETag".to_string(), format!("\"{e}\""))])
            .unwrap_or_default();
        routes.push((
            format!("/repo/resolve/main/{name}"),
            Served {
                status: 200,
                headers,
                body,
            },
        ));
    }
    let weights = std::fs::read(model.join("model.safetensors")).unwrap();
    let mut headers = vec![(
        "Location".to_string(),
        "/cdn/blob-of-the-weights".to_string(),
    )];
    if let Some(etag) = tamper("model.safetensors", sha256(&weights)) {
        headers.push(("X-Linked-Etag".to_string(), format!("\"{etag}\"")));
    }
    routes.push((
        "/repo/resolve/main/model.safetensors".into(),
        Served {
            status: 302,
            headers,
            body: vec![],
        },
    ));
    routes.push((
        "/cdn/blob-of-the-weights".into(),
        Served {
            status: 200,
            headers: vec![("ETag".into(), "\"not-a-digest-1\"".into())],
            body: weights,
        },
    ));
    routes
}

fn installed_dir(db: &TestDb) -> std::path::PathBuf {
    db.data_dir().join("models").join("potion-base-8M")
}

/// Nothing but the models directory itself (or nothing at all) is left behind.
fn assert_nothing_installed(db: &TestDb) {
    assert!(!installed_dir(db).exists());
    if let Ok(entries) = std::fs::read_dir(db.data_dir().join("models")) {
        let left: Vec<_> = entries.map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[tokio::test]
async fn model_install_downloads_a_verified_model_that_search_uses() {
    let db = TestDb::migrated(Backend::Sqlite);
    let base = serve_files(hub_routes(|_, etag| Some(etag)));
    let url = format!("{base}/repo/resolve/main");
    let env = [("MEM0_MODEL_URL", url.as_str())];
    let out = db.run(&["model", "install"], &env);
    out.ok();
    let dir = installed_dir(&db);
    assert!(
        out.stdout.contains(dir.to_str().unwrap())
            && out.stdout.contains("MEM0_EMBEDDING_PROVIDER=builtin"),
        "{}",
        out.describe()
    );
    for name in ["config.json", "tokenizer.json", "model.safetensors"] {
        assert_eq!(
            std::fs::read(dir.join(name)).unwrap(),
            std::fs::read(test_model_dir().join(name)).unwrap(),
            "{name}"
        );
    }
    // An installed model is kept unless --force.
    db.run(&["model", "install"], &env).fails_with(2, "--force");
    db.run(&["model", "install", "--force"], &env).ok();
    let server = db
        .server()
        .env("MEM0_EMBEDDING_PROVIDER", "builtin")
        .start()
        .await;
    add_all(&server).await;
    let found = contents(&server, QUESTION).await;
    assert_eq!(found.first(), Some(&MEMORIES[0].to_string()), "{found:?}");
    server.shutdown().await;
}

#[test]
fn model_install_refuses_a_file_that_does_not_match_its_checksum() {
    for wrong in ["tokenizer.json", "model.safetensors"] {
        let db = TestDb::migrated(Backend::Sqlite);
        let base = serve_files(hub_routes(|name, etag| {
            Some(if name == wrong {
                etag.chars().rev().collect()
            } else {
                etag
            })
        }));
        let url = format!("{base}/repo/resolve/main");
        let out = db.run(&["model", "install"], &[("MEM0_MODEL_URL", url.as_str())]);
        out.assert_code(1);
        assert!(
            out.stderr.contains(wrong) && out.stderr.contains("expected"),
            "{}",
            out.describe()
        );
        assert_nothing_installed(&db);
    }
}

#[test]
fn model_install_refuses_a_file_served_without_a_checksum() {
    let db = TestDb::migrated(Backend::Sqlite);
    let base = serve_files(hub_routes(|name, etag| {
        (name != "config.json").then_some(etag)
    }));
    let url = format!("{base}/repo/resolve/main");
    let out = db.run(&["model", "install"], &[("MEM0_MODEL_URL", url.as_str())]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("config.json") && out.stderr.contains("without a checksum"),
        "{}",
        out.describe()
    );
    assert_nothing_installed(&db);
}

#[test]
fn model_install_names_an_unreachable_url() {
    let db = TestDb::migrated(Backend::Sqlite);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mirror");
    let out = db.run(&["model", "install"], &[("MEM0_MODEL_URL", url.as_str())]);
    out.assert_code(1);
    assert!(
        out.stderr.contains(&format!("{url}/config.json")) && out.stderr.contains("MEM0_MODEL_URL"),
        "{}",
        out.describe()
    );
    assert_nothing_installed(&db);
}
