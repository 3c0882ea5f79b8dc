//! The store contract, in process: ONE story told to both implementations of the store traits
//! (as atuin's database tests tell one story to each backend), so the SQLite file and
//! PostgreSQL are held to the same answers. The tool layer and the binary are not involved:
//! this is what `MemoryStore` and `TokenStore` promise, call by call.
//!
//! `memories`: migrations, insert, dedup, the scope limit, get, update, delete, list with
//! keyset pagination and tag / author filters, count, search, history, and isolation between
//! users, projects and the shared (global) pool. `tokens`: insert and every lookup, list,
//! enable / disable, touch, delete, the audit log and the per-user statistics.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use mem0_mcp::access::{Permissions, Principal};
use mem0_mcp::auth::Token;
use mem0_mcp::memory::{
    Cursor, GLOBAL_PROJECT, HistoryKind, Memory, MemoryChanges, Metadata, NewMemory, NewVector,
    Scope, content_hash, now,
};
use mem0_mcp::project::ProjectMode;
use mem0_mcp::settings::Secret;
use mem0_mcp::store::{
    AuditEntry, AuditEvent, EXPIRY_ACTOR, InsertOutcome, ListFilter, MemoryStore, NewToken,
    PostgresStore, SearchTerms, SqliteStore, TokenRecord, TokenStatus, TokenStore, UpdateOutcome,
    VectorRecord,
};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Backend, PgDatabase};

on_both_backends!(memories, tokens, expiry, vectors);

/// A migrated store of one backend, seen through both traits, and what keeps its database.
struct Fixture {
    memories: Arc<dyn MemoryStore>,
    tokens: Arc<dyn TokenStore>,
    /// Dropped last: the SQLite directory, or the PostgreSQL database (dropped WITH FORCE).
    _database: Database,
}

enum Database {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgDatabase),
}

impl Fixture {
    async fn open(backend: Backend) -> Fixture {
        let fixture = match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("m0t-store-")
                    .tempdir()
                    .expect("temporary data directory");
                let path: PathBuf = dir.path().join("mem0.db");
                let store = Arc::new(SqliteStore::open(&path).await.expect("open SQLite"));
                Fixture {
                    memories: store.clone(),
                    tokens: store,
                    _database: Database::Sqlite(dir),
                }
            }
            Backend::Postgres => {
                let db = PgDatabase::create();
                let url = Secret::new(db.url.clone());
                let store = Arc::new(
                    PostgresStore::open(&url, Duration::from_secs(60)).expect("open PostgreSQL"),
                );
                Fixture {
                    memories: store.clone(),
                    tokens: store,
                    _database: Database::Postgres(db),
                }
            }
        };
        let applied = fixture.memories.migrate().await.expect("migrate");
        assert!(!applied.is_empty(), "a new database gets every migration");
        fixture
    }
}

fn manual(user: &str, project: &str) -> Scope {
    Scope {
        user_id: user.into(),
        project_id: project.into(),
        mode: ProjectMode::Manual,
    }
}

/// The shared pool, as `user` sees it.
fn global(user: &str) -> Scope {
    Scope {
        user_id: user.into(),
        project_id: GLOBAL_PROJECT.into(),
        mode: ProjectMode::Global,
    }
}

const ACTOR_TOKEN: &str = "mcp_Contract";

fn actor(user: &str) -> Principal {
    Principal {
        user_id: user.into(),
        permissions: Permissions::READ_WRITE,
        token_display_id: Some(ACTOR_TOKEN.into()),
    }
}

fn metadata(value: serde_json::Value) -> Metadata {
    value.as_object().expect("metadata is an object").clone()
}

/// A memory about to be stored at `at`.
fn new_memory(content: &str, tags: &[&str], at: DateTime<Utc>) -> NewMemory {
    NewMemory {
        id: Uuid::now_v7(),
        content: content.into(),
        content_hash: content_hash(content),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        metadata: metadata(json!({"source": "contract", "n": 1})),
        at,
        expires_at: None,
        vector: None,
    }
}

/// What `new` should be once stored by `user`.
fn stored(new: &NewMemory, user: &str) -> Memory {
    Memory {
        id: new.id,
        user_id: user.into(),
        content: new.content.clone(),
        tags: new.tags.clone(),
        metadata: new.metadata.clone(),
        created_at: new.at,
        updated_at: new.at,
        expires_at: new.expires_at,
    }
}

fn tags(tags: &[&str]) -> Vec<String> {
    tags.iter().map(|t| t.to_string()).collect()
}

async fn insert(
    store: &dyn MemoryStore,
    scope: &Scope,
    new: &NewMemory,
    limit: u64,
) -> InsertOutcome {
    store
        .insert_memory(scope, new, &actor(&scope.user_id), limit)
        .await
        .expect("insert_memory")
}

/// Inserts a memory that must be new; returns it as stored.
async fn insert_new(store: &dyn MemoryStore, scope: &Scope, new: &NewMemory) -> Memory {
    match insert(store, scope, new, 100).await {
        InsertOutcome::Inserted(memory) => {
            assert_eq!(memory, stored(new, &scope.user_id), "the stored memory");
            memory
        }
        other => panic!("{:?} should have been inserted, got {other:?}", new.content),
    }
}

async fn list(store: &dyn MemoryStore, scope: &Scope, filter: &ListFilter<'_>) -> Vec<Memory> {
    store
        .list_memories(scope, filter)
        .await
        .expect("list_memories")
}

fn ids(memories: &[Memory]) -> Vec<Uuid> {
    memories.iter().map(|m| m.id).collect()
}

async fn count(store: &dyn MemoryStore, scope: &Scope) -> u64 {
    store
        .count_memories(scope, &[], None)
        .await
        .expect("count_memories")
}

/// Search results' ids, best first (the scores checked to be in that order).
async fn search(
    store: &dyn MemoryStore,
    scope: &Scope,
    query: &str,
    tags: &[String],
    limit: u32,
) -> Vec<Uuid> {
    let results = store
        .search_memories(scope, &SearchTerms::parse(query), tags, limit)
        .await
        .expect("search_memories");
    assert!(
        results.len() <= limit as usize,
        "{query}: more than {limit} results"
    );
    for pair in results.windows(2) {
        assert!(
            pair[0].score >= pair[1].score,
            "{query}: results are best first: {results:?}"
        );
    }
    results.iter().map(|r| r.memory.id).collect()
}

async fn memories(backend: Backend) {
    let fixture = Fixture::open(backend).await;
    let store = fixture.memories.as_ref();
    assert_eq!(store.backend().as_str(), backend.name());
    store.ping().await.expect("ping");

    // Migrations: all applied, and applying again does nothing.
    let status = store.schema_status().await.expect("schema_status");
    assert!(status.is_current(), "{status:?}");
    assert!(status.pending().is_empty());
    assert!(status.unknown_versions.is_empty());
    assert!(store.migrate().await.expect("migrate again").is_empty());

    let alice = manual("alice", "proj-a");
    let base = mem0_mcp::memory::now() - TimeDelta::hours(1);
    let at = |seconds: i64| base + TimeDelta::seconds(seconds);

    // Insert.
    let n1 = new_memory(
        "Use pnpm, not npm, in this repository",
        &["tooling", "js"],
        at(1),
    );
    let n2 = new_memory(
        "Deploys go through the staging pipeline first",
        &["deploy"],
        at(2),
    );
    let n3 = new_memory(
        "The lock file is pnpm-lock.yaml, next to package.json",
        &["tooling"],
        at(3),
    );
    let m1 = insert_new(store, &alice, &n1).await;
    let m2 = insert_new(store, &alice, &n2).await;
    let m3 = insert_new(store, &alice, &n3).await;
    assert_eq!(count(store, &alice).await, 3);

    // Dedup: the same content in the same scope is the memory already there, unchanged.
    let again = new_memory(&n1.content, &["other"], at(4));
    match insert(store, &alice, &again, 100).await {
        InsertOutcome::Duplicate(existing) => assert_eq!(existing, m1),
        other => panic!("the same content again should be a duplicate, got {other:?}"),
    }
    assert_eq!(count(store, &alice).await, 3);

    // The scope limit: a full scope refuses new content and stores nothing; a duplicate is
    // still found (it adds nothing).
    let n4 = new_memory("Nothing more fits in this scope", &[], at(5));
    match insert(store, &alice, &n4, 3).await {
        InsertOutcome::ScopeFull { count } => assert_eq!(count, 3),
        other => panic!("a full scope should refuse, got {other:?}"),
    }
    assert_eq!(store.get_memory(&alice, n4.id).await.unwrap(), None);
    match insert(store, &alice, &again, 3).await {
        InsertOutcome::Duplicate(existing) => assert_eq!(existing.id, m1.id),
        other => panic!("a duplicate in a full scope is still a duplicate, got {other:?}"),
    }
    assert_eq!(count(store, &alice).await, 3);

    // Get: only in its own scope.
    assert_eq!(
        store.get_memory(&alice, m1.id).await.unwrap(),
        Some(m1.clone())
    );
    assert_eq!(
        store.get_memory(&alice, Uuid::now_v7()).await.unwrap(),
        None
    );
    for elsewhere in [
        manual("bob", "proj-a"),
        manual("alice", "proj-b"),
        global("alice"),
    ] {
        assert_eq!(
            store.get_memory(&elsewhere, m1.id).await.unwrap(),
            None,
            "{elsewhere:?} sees another scope's memory"
        );
    }

    // Update: content and tags; metadata alone; content another memory has; unknown ids and
    // other scopes change nothing.
    let new_content = "Deploys go through staging, then production";
    let changes = MemoryChanges {
        content: Some((new_content.into(), content_hash(new_content))),
        tags: Some(tags(&["deploy", "prod"])),
        metadata: None,
        expires_at: None,
    };
    let updated = match store
        .update_memory(&alice, m2.id, &changes, now(), &actor("alice"))
        .await
        .unwrap()
    {
        UpdateOutcome::Updated(memory) => memory,
        other => panic!("update_memory: {other:?}"),
    };
    assert_eq!(updated.id, m2.id);
    assert_eq!(updated.content, new_content);
    assert_eq!(updated.tags, tags(&["deploy", "prod"]));
    assert_eq!(updated.metadata, m2.metadata, "metadata kept");
    assert_eq!(updated.created_at, m2.created_at);
    assert!(updated.updated_at >= m2.updated_at);
    assert_eq!(
        store.get_memory(&alice, m2.id).await.unwrap(),
        Some(updated.clone())
    );
    let only_metadata = MemoryChanges {
        metadata: Some(metadata(json!({"reviewed": true}))),
        ..Default::default()
    };
    let m2 = match store
        .update_memory(&alice, m2.id, &only_metadata, now(), &actor("alice"))
        .await
        .unwrap()
    {
        UpdateOutcome::Updated(memory) => memory,
        other => panic!("update_memory (metadata): {other:?}"),
    };
    assert_eq!(m2.content, new_content, "content kept");
    assert_eq!(m2.tags, tags(&["deploy", "prod"]), "tags kept");
    assert_eq!(m2.metadata, metadata(json!({"reviewed": true})));
    let taken = MemoryChanges {
        content: Some((m1.content.clone(), content_hash(&m1.content))),
        ..Default::default()
    };
    assert_eq!(
        store
            .update_memory(&alice, m2.id, &taken, now(), &actor("alice"))
            .await
            .unwrap(),
        UpdateOutcome::ContentTaken(m1.id)
    );
    assert_eq!(
        store
            .update_memory(&alice, Uuid::now_v7(), &changes, now(), &actor("alice"))
            .await
            .unwrap(),
        UpdateOutcome::NotFound
    );
    assert_eq!(
        store
            .update_memory(
                &manual("bob", "proj-a"),
                m2.id,
                &changes,
                now(),
                &actor("bob")
            )
            .await
            .unwrap(),
        UpdateOutcome::NotFound
    );
    assert_eq!(
        store.get_memory(&alice, m2.id).await.unwrap(),
        Some(m2.clone())
    );

    // List: newest first, in pages that follow each other exactly.
    let everything = ListFilter {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(&list(store, &alice, &everything).await),
        [m3.id, m2.id, m1.id]
    );
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = list(
            store,
            &alice,
            &ListFilter {
                after,
                limit: 2,
                ..Default::default()
            },
        )
        .await;
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(Cursor::after(last));
        pages.push(ids(&page));
    }
    assert_eq!(pages, [vec![m3.id, m2.id], vec![m1.id]]);

    // Tag filters: every tag must be there.
    let tooling = tags(&["tooling"]);
    let tooling_js = tags(&["tooling", "js"]);
    let by_tags = |tags| ListFilter {
        tags,
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(&list(store, &alice, &by_tags(&tooling)).await),
        [m3.id, m1.id]
    );
    assert_eq!(
        ids(&list(store, &alice, &by_tags(&tooling_js)).await),
        [m1.id]
    );
    assert_eq!(
        store.count_memories(&alice, &tooling, None).await.unwrap(),
        2
    );
    assert_eq!(
        store
            .count_memories(&alice, &tooling_js, None)
            .await
            .unwrap(),
        1
    );

    // Search: best first, within the scope and the tags.
    assert_eq!(
        search(store, &alice, "staging production", &[], 10).await[0],
        m2.id
    );
    let pnpm = search(store, &alice, "pnpm", &[], 10).await;
    assert!(pnpm.contains(&m1.id), "{pnpm:?}");
    assert!(!pnpm.contains(&m2.id), "{pnpm:?}");
    assert_eq!(
        search(store, &alice, "pnpm-lock.yaml", &[], 10).await[0],
        m3.id
    );
    assert_eq!(
        search(store, &alice, "pnpm", &tags(&["js"]), 10).await,
        [m1.id]
    );
    assert_eq!(search(store, &alice, "pnpm", &[], 1).await.len(), 1);
    assert!(
        search(store, &alice, "kubernetes", &[], 10)
            .await
            .is_empty()
    );
    assert!(
        search(store, &manual("bob", "proj-a"), "pnpm", &[], 10)
            .await
            .is_empty()
    );

    // History: every change, in order, with who made it.
    let history = store.memory_history(&alice, m2.id).await.unwrap();
    let events: Vec<(HistoryKind, &str)> = history
        .iter()
        .map(|e| (e.event, e.content.as_str()))
        .collect();
    assert_eq!(
        events,
        [
            (HistoryKind::Add, n2.content.as_str()),
            (HistoryKind::Update, new_content),
            (HistoryKind::Update, new_content),
        ]
    );
    for event in &history {
        assert_eq!(event.actor, "alice");
        assert_eq!(event.actor_token.as_deref(), Some(ACTOR_TOKEN));
    }
    assert_eq!(history[0].at, n2.at);
    assert!(
        store
            .memory_history(&manual("bob", "proj-a"), m2.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Delete: only ids of the scope go, and the history keeps the last content.
    assert_eq!(
        store
            .delete_memories(&alice, &[m1.id, Uuid::now_v7()], &actor("alice"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.get_memory(&alice, m1.id).await.unwrap(), None);
    assert_eq!(count(store, &alice).await, 2);
    let history = store.memory_history(&alice, m1.id).await.unwrap();
    let last = history.last().expect("history of a deleted memory");
    assert_eq!(last.event, HistoryKind::Delete);
    assert_eq!(last.content, m1.content);
    assert_eq!(
        store
            .delete_memories(&alice, &[m1.id], &actor("alice"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_memories(&manual("bob", "proj-a"), &[m2.id], &actor("bob"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.get_memory(&alice, m2.id).await.unwrap(),
        Some(m2.clone())
    );

    // Isolation: dedup, counts and lists are per user and project.
    let bob = manual("bob", "proj-a");
    let b3 = new_memory(&n3.content, &["tooling"], at(6));
    let b3 = insert_new(store, &bob, &b3).await;
    assert_ne!(b3.id, m3.id);
    assert_eq!(count(store, &bob).await, 1);
    assert_eq!(count(store, &alice).await, 2);
    assert_eq!(ids(&list(store, &bob, &everything).await), [b3.id]);
    let other_project = manual("alice", "proj-b");
    assert_eq!(count(store, &other_project).await, 0);
    assert!(list(store, &other_project, &everything).await.is_empty());

    // The shared pool: one scope for every user, with authors kept apart by filters.
    let g1 = insert_new(
        store,
        &global("alice"),
        &new_memory("Releases are cut on Mondays", &[], at(7)),
    )
    .await;
    let g2 = insert_new(
        store,
        &global("bob"),
        &new_memory("The CI cache is keyed by the lock file", &[], at(8)),
    )
    .await;
    match insert(
        store,
        &global("bob"),
        &new_memory(&g1.content, &[], at(9)),
        100,
    )
    .await
    {
        InsertOutcome::Duplicate(existing) => assert_eq!(existing, g1),
        other => panic!("the shared pool deduplicates across users, got {other:?}"),
    }
    assert_eq!(
        ids(&list(store, &global("carol"), &everything).await),
        [g2.id, g1.id]
    );
    let by_alice = ListFilter {
        author: Some("alice"),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(ids(&list(store, &global("bob"), &by_alice).await), [g1.id]);
    assert_eq!(
        store
            .count_memories(&global("alice"), &[], Some("bob"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(count(store, &global("carol")).await, 2);
    assert_eq!(
        store.get_memory(&global("carol"), g2.id).await.unwrap(),
        Some(g2.clone())
    );
    assert_eq!(
        count(store, &alice).await,
        2,
        "the pool is not alice's scope"
    );
}

/// A token about to be stored, and the token itself.
/// The vectors story: a memory's vector is stored with it or for the content it was made
/// from, replaced by a later one (another model's too), refused and dropped once the content
/// changed, and gone with the memory; every write moves the scope's stamp.
async fn vectors(backend: Backend) {
    let fixture = Fixture::open(backend).await;
    let store = fixture.memories.as_ref();
    let scope = manual("alice", "vectors");
    // The scope's vector counter: it must grow with every write below.
    let mut last_changes = store.vector_changes(&scope).await.unwrap();
    assert_eq!(last_changes, 0, "a scope that never had a memory");
    macro_rules! changed {
        ($what:literal) => {{
            let now_changes = store.vector_changes(&scope).await.unwrap();
            assert!(
                now_changes > last_changes,
                "{}: {now_changes} after {last_changes}",
                $what
            );
            last_changes = now_changes;
        }};
    }

    // Inserted with its vector, in one go; a duplicate stores no second one.
    let embedded = NewMemory {
        vector: Some(NewVector {
            model: "m0".into(),
            vector: vec![9, 0, 0, 0],
        }),
        ..new_memory("Releases are tagged vX.Y.Z", &[], now())
    };
    let with_vector = insert_new(store, &scope, &embedded).await;
    let again = NewMemory {
        id: Uuid::now_v7(),
        ..embedded.clone()
    };
    let outcome = insert(store, &scope, &again, 100).await;
    assert!(
        matches!(outcome, InsertOutcome::Duplicate(_)),
        "{outcome:?}"
    );
    let stored = store.scope_vectors(&scope, "m0").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].memory_id, stored[0].vector.clone()),
        (with_vector.id, vec![9, 0, 0, 0])
    );
    assert_eq!(store.vector_stamp(&scope, "m0").await.unwrap().count, 1);
    changed!("inserted with its memory");

    let first = "Deploys go through Fly.io from main";
    let memory = insert_new(store, &scope, &new_memory(first, &[], now())).await;
    let put = |model: &'static str, hash: String, vector: Vec<u8>| {
        let id = memory.id;
        async move {
            store
                .put_vector(&VectorRecord {
                    memory_id: id,
                    model,
                    content_hash: &hash,
                    vector: &vector,
                })
                .await
                .unwrap()
        }
    };
    let vectors_of = |model: &'static str| {
        let scope = scope.clone();
        async move {
            let mut found: Vec<(Uuid, Vec<u8>)> = store
                .scope_vectors(&scope, model)
                .await
                .unwrap()
                .into_iter()
                .map(|v| (v.memory_id, v.vector))
                .collect();
            found.sort();
            found
        }
    };
    let stamp = |model: &'static str| {
        let scope = scope.clone();
        async move { store.vector_stamp(&scope, model).await.unwrap() }
    };

    assert!(put("m1", content_hash(first), vec![1, 0, 0, 0]).await);
    assert_eq!(vectors_of("m1").await, [(memory.id, vec![1, 0, 0, 0])]);
    let after_first = stamp("m1").await;
    assert_eq!(after_first.count, 1);
    changed!("stored");

    // Again, same model: replaced, and the stamp moves though the count does not.
    assert!(put("m1", content_hash(first), vec![2, 0, 0, 0]).await);
    assert_eq!(vectors_of("m1").await, [(memory.id, vec![2, 0, 0, 0])]);
    let after_second = stamp("m1").await;
    assert_eq!(after_second.count, 1);
    assert!(after_second.last_seq > after_first.last_seq);
    changed!("replaced");

    // Another model's vector takes its place: one vector per memory.
    assert!(put("m2", content_hash(first), vec![3, 0, 0, 0]).await);
    assert_eq!(vectors_of("m1").await, []);
    assert_eq!(vectors_of("m2").await, [(memory.id, vec![3, 0, 0, 0])]);
    changed!("replaced by another model's");

    // New content drops the vector; one made from the old content is refused.
    let second = "Deploys go through staging first";
    let changes = MemoryChanges {
        content: Some((second.into(), content_hash(second))),
        ..Default::default()
    };
    let outcome = store
        .update_memory(&scope, memory.id, &changes, now(), &actor("alice"))
        .await
        .unwrap();
    assert!(matches!(outcome, UpdateOutcome::Updated(_)), "{outcome:?}");
    assert_eq!(vectors_of("m2").await, []);
    changed!("dropped with the old content");
    assert!(!put("m2", content_hash(first), vec![4, 0, 0, 0]).await);
    assert_eq!(vectors_of("m2").await, []);
    assert!(put("m2", content_hash(second), vec![5, 0, 0, 0]).await);
    assert_eq!(vectors_of("m2").await, [(memory.id, vec![5, 0, 0, 0])]);

    // Gone with the memory, and none stored for a memory that is gone.
    store
        .delete_memories(&scope, &[memory.id], &actor("alice"))
        .await
        .unwrap();
    assert_eq!(vectors_of("m2").await, []);
    assert_eq!(stamp("m2").await.count, 0);
    changed!("deleted with its memory");
    assert!(last_changes > 0);
    assert!(!put("m2", content_hash(second), vec![6, 0, 0, 0]).await);
    assert_eq!(vectors_of("m2").await, []);
}

fn new_token(user: &str, at: DateTime<Utc>, permissions: Permissions) -> (Token, NewToken) {
    let token = Token::generate().expect("a random token");
    let new = NewToken {
        hash: token.hash(),
        public_id: mem0_mcp::store::new_public_id().expect("a random public id"),
        display_id: token.display_id(),
        user_id: user.into(),
        name: Some(format!("{user}'s laptop")),
        email: Some(format!("{user}@example.com")),
        created_at: at,
        expires_at: Some(at + TimeDelta::days(30)),
        created_by: Some("admin".into()),
        permissions,
    };
    (token, new)
}

fn audit(event: AuditEvent, user: &str, token: Option<&str>, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        at,
        ..AuditEntry::new(event).user(user).token(token)
    }
}

/// Expiry: an expired memory is invisible to every read, does not block its content or count
/// against the limit, and is purged with a DELETE event in its history.
async fn expiry(backend: Backend) {
    let fixture = Fixture::open(backend).await;
    let store = fixture.memories.as_ref();
    let alice = manual("alice", "expiry");
    let at = now();
    let expiring = |content: &str, expires_at: Option<DateTime<Utc>>| NewMemory {
        expires_at,
        ..new_memory(content, &["t"], at)
    };
    let live = insert_new(store, &alice, &expiring("lasting fact", None)).await;
    let soon = expiring("freeze until friday", Some(at + TimeDelta::days(3)));
    let soon = insert_new(store, &alice, &soon).await;
    let later = expiring("quarterly freeze", Some(at + TimeDelta::days(30)));
    let later = insert_new(store, &alice, &later).await;
    let gone = expiring("the old freeze of v1.2", Some(at - TimeDelta::minutes(1)));
    let gone = insert_new(store, &alice, &gone).await;

    assert_eq!(store.get_memory(&alice, gone.id).await.unwrap(), None);
    assert_eq!(
        store.get_memory(&alice, soon.id).await.unwrap(),
        Some(soon.clone())
    );
    let all = ListFilter {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        ids(&list(store, &alice, &all).await),
        [later.id, soon.id, live.id]
    );
    assert_eq!(
        search(store, &alice, "freeze", &[], 10).await.len(),
        2,
        "the expired memory is not found"
    );
    assert_eq!(
        search(store, &alice, "old", &[], 10).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(
        search(store, &alice, "v1.2", &[], 10).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(
        store
            .count_memories(&alice, &tags(&["t"]), None)
            .await
            .unwrap(),
        3
    );
    let week = store
        .count_expiring(&alice, now(), now() + TimeDelta::days(7))
        .await
        .unwrap();
    assert_eq!(week, 1, "only the memory due in 3 days expires within 7");
    let stale = MemoryChanges {
        tags: Some(tags(&["x"])),
        ..Default::default()
    };
    assert_eq!(
        store
            .update_memory(&alice, gone.id, &stale, now(), &actor("alice"))
            .await
            .unwrap(),
        UpdateOutcome::NotFound,
        "an expired memory cannot be updated"
    );

    // Purging removes it for good and records why.
    assert_eq!(count(store, &alice).await, 4, "not purged yet");
    assert_eq!(store.purge_expired(&alice, now()).await.unwrap(), 1);
    assert_eq!(store.purge_expired(&alice, now()).await.unwrap(), 0);
    assert_eq!(count(store, &alice).await, 3);
    let history = store.memory_history(&alice, gone.id).await.unwrap();
    let events: Vec<(HistoryKind, &str)> = history
        .iter()
        .map(|e| (e.event, e.actor.as_str()))
        .collect();
    assert_eq!(
        events,
        [
            (HistoryKind::Add, "alice"),
            (HistoryKind::Delete, EXPIRY_ACTOR)
        ]
    );

    // Clearing and setting an expiry.
    let clear = MemoryChanges {
        expires_at: Some(None),
        ..Default::default()
    };
    let UpdateOutcome::Updated(cleared) = store
        .update_memory(&alice, soon.id, &clear, now(), &actor("alice"))
        .await
        .unwrap()
    else {
        panic!("update clears the expiry")
    };
    assert_eq!(cleared.expires_at, None);
    let until = now() + TimeDelta::hours(5);
    let set = MemoryChanges {
        expires_at: Some(Some(until)),
        ..Default::default()
    };
    let UpdateOutcome::Updated(set) = store
        .update_memory(&alice, live.id, &set, now(), &actor("alice"))
        .await
        .unwrap()
    else {
        panic!("update sets the expiry")
    };
    assert_eq!(set.expires_at, Some(until));
    assert_eq!(
        store
            .get_memory(&alice, live.id)
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(until)
    );

    // An expired memory neither blocks its content nor counts against the limit.
    // Expired before `at`, the time the twin below is added at (the purge compares with it).
    let short = expiring("temporary workaround", Some(at - TimeDelta::seconds(1)));
    insert_new(store, &alice, &short).await;
    assert_eq!(count(store, &alice).await, 4);
    let again = expiring("temporary workaround", None);
    let again = insert(store, &alice, &again, 4).await;
    assert!(
        matches!(again, InsertOutcome::Inserted(_)),
        "the expired twin was purged first: {again:?}"
    );
    assert_eq!(count(store, &alice).await, 4);

    // Other scopes are untouched by alice's purge.
    let bob = manual("bob", "expiry");
    let bobs = expiring("bob's freeze", Some(now() - TimeDelta::seconds(1)));
    insert_new(store, &bob, &bobs).await;
    assert_eq!(store.purge_expired(&alice, now()).await.unwrap(), 0);
    assert_eq!(count(store, &bob).await, 1);
}

async fn tokens(backend: Backend) {
    let fixture = Fixture::open(backend).await;
    let store = fixture.tokens.as_ref();
    let base = mem0_mcp::memory::now() - TimeDelta::hours(1);
    let at = |seconds: i64| base + TimeDelta::seconds(seconds);
    let read_only = Permissions {
        read: true,
        write: false,
        admin: false,
    };

    // Insert, and every lookup.
    let (t1, n1) = new_token("alice", at(1), Permissions::READ_WRITE);
    let (t2, mut n2) = new_token("bob", at(2), read_only);
    n2.name = None;
    n2.email = None;
    n2.expires_at = None;
    n2.created_by = None;
    let mut written = Vec::new();
    let created1 = audit(
        AuditEvent::TokenCreated,
        "alice",
        Some(&n1.display_id),
        at(1),
    );
    let r1 = store
        .insert_token(&n1, &created1)
        .await
        .expect("insert_token");
    written.push(created1);
    let created2 = audit(AuditEvent::TokenCreated, "bob", Some(&n2.display_id), at(2));
    let r2 = store
        .insert_token(&n2, &created2)
        .await
        .expect("insert_token");
    written.push(created2);
    for (record, new) in [(&r1, &n1), (&r2, &n2)] {
        assert_eq!(
            record,
            &TokenRecord {
                id: record.id,
                public_id: new.public_id.clone(),
                token_prefix: new.display_id.clone(),
                user_id: new.user_id.clone(),
                name: new.name.clone(),
                email: new.email.clone(),
                created_at: new.created_at,
                expires_at: new.expires_at,
                is_enabled: true,
                last_used_at: None,
                created_by: new.created_by.clone(),
                permissions: new.permissions,
            }
        );
    }
    assert_ne!(r1.id, r2.id);
    assert_eq!(r1.token_prefix, t1.display_id());
    assert_eq!(
        store.token_by_hash(&t1.hash()).await.unwrap(),
        Some(r1.clone())
    );
    let unknown = Token::generate().unwrap();
    assert_eq!(store.token_by_hash(&unknown.hash()).await.unwrap(), None);
    assert_eq!(store.token_by_id(r2.id).await.unwrap(), Some(r2.clone()));
    assert_eq!(store.token_by_id(r2.id + 1000).await.unwrap(), None);
    assert_ne!(r1.public_id, r2.public_id);
    assert_eq!(r1.public_id.len(), 32);
    assert_eq!(
        store.token_by_public_id(&r2.public_id).await.unwrap(),
        Some((r2.clone(), t2.hash()))
    );
    assert_eq!(
        store.token_by_public_id(&"0".repeat(32)).await.unwrap(),
        None
    );
    assert_eq!(
        store.tokens_by_display_id(&n1.display_id).await.unwrap(),
        std::slice::from_ref(&r1)
    );
    assert!(
        store
            .tokens_by_display_id(&unknown.display_id())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.list_tokens(None).await.unwrap(),
        [r1.clone(), r2.clone()]
    );
    assert_eq!(
        store.list_tokens(Some("bob")).await.unwrap(),
        std::slice::from_ref(&r2)
    );
    assert!(store.list_tokens(Some("carol")).await.unwrap().is_empty());

    // Disable and enable, each with its audit row; an unknown id changes nothing.
    let revoked = audit(
        AuditEvent::TokenRevoked,
        "alice",
        Some(&n1.display_id),
        at(3),
    );
    assert!(
        store
            .set_token_enabled(r1.id, false, &revoked)
            .await
            .unwrap()
    );
    written.push(revoked);
    let disabled = store.token_by_id(r1.id).await.unwrap().unwrap();
    assert!(!disabled.is_enabled);
    assert_eq!(disabled.status(at(3)), TokenStatus::Disabled);
    let enabled = audit(
        AuditEvent::TokenEnabled,
        "alice",
        Some(&n1.display_id),
        at(4),
    );
    assert!(
        store
            .set_token_enabled(r1.id, true, &enabled)
            .await
            .unwrap()
    );
    written.push(enabled);
    assert_eq!(
        store
            .token_by_id(r1.id)
            .await
            .unwrap()
            .unwrap()
            .status(at(4)),
        TokenStatus::Enabled
    );
    let nobody = audit(AuditEvent::TokenRevoked, "alice", None, at(4));
    assert!(
        !store
            .set_token_enabled(r2.id + 1000, false, &nobody)
            .await
            .unwrap()
    );

    // Touch: the last use is recorded.
    store.touch_token(r1.id, at(5)).await.unwrap();
    assert_eq!(
        store
            .token_by_id(r1.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(at(5))
    );

    // Authentication attempts in the audit log, and the statistics drawn from it.
    let success = audit(AuditEvent::Success, "alice", Some(&n1.display_id), at(6));
    let mut failed = audit(AuditEvent::AuthFailed, "alice", Some(&n1.display_id), at(7));
    failed.message = Some("token expired".into());
    let failed_bob = audit(AuditEvent::AuthFailed, "bob", None, at(8)).message("no such token");
    for entry in [success, failed, failed_bob] {
        store.append_audit(&entry).await.unwrap();
        written.push(entry);
    }

    // Delete: gone, and gone again is no change.
    let deleted = audit(AuditEvent::TokenDeleted, "bob", Some(&n2.display_id), at(9));
    assert!(store.delete_token(r2.id, &deleted).await.unwrap());
    written.push(deleted);
    assert_eq!(store.token_by_id(r2.id).await.unwrap(), None);
    let again = audit(
        AuditEvent::TokenDeleted,
        "bob",
        Some(&n2.display_id),
        at(10),
    );
    assert!(!store.delete_token(r2.id, &again).await.unwrap());
    assert_eq!(store.list_tokens(None).await.unwrap().len(), 1);

    // The audit log: newest first, exactly as written, filtered by user and time, limited.
    let entries = |records: Vec<mem0_mcp::store::AuditRecord>| -> Vec<AuditEntry> {
        records.into_iter().map(|r| r.entry).collect()
    };
    let newest_first: Vec<AuditEntry> = written.iter().rev().cloned().collect();
    assert_eq!(
        entries(store.audit_log(at(0), None, 100).await.unwrap()),
        newest_first
    );
    let alice_rows: Vec<AuditEntry> = newest_first
        .iter()
        .filter(|e| e.user_id.as_deref() == Some("alice"))
        .cloned()
        .collect();
    assert_eq!(
        entries(store.audit_log(at(0), Some("alice"), 100).await.unwrap()),
        alice_rows
    );
    assert_eq!(
        entries(store.audit_log(at(0), None, 2).await.unwrap()),
        newest_first[..2]
    );
    assert_eq!(
        entries(store.audit_log(at(7), None, 100).await.unwrap()),
        newest_first[..3],
        "since is inclusive"
    );

    let alice_stats = store.auth_stats("alice", at(0)).await.unwrap();
    assert_eq!(
        (
            alice_stats.successes,
            alice_stats.failures,
            alice_stats.last_success
        ),
        (1, 1, Some(at(6)))
    );
    let bob_stats = store.auth_stats("bob", at(0)).await.unwrap();
    assert_eq!(
        (
            bob_stats.successes,
            bob_stats.failures,
            bob_stats.last_success
        ),
        (0, 1, None)
    );
    let later = store.auth_stats("alice", at(7)).await.unwrap();
    assert_eq!((later.successes, later.failures), (0, 1));
}
