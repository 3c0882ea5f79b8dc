//! Every search shape holds to the index, on both backends: the plan of a plain question, a
//! possessive, an identifier and a common word (what `EXPLAIN` shows, never a timing). The
//! full-text match is evaluated once, by the index, never again for each row of the scope. The
//! reads of the in-process index (the scope's stamp and its memories) go by key and by the
//! scope's index.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mem0_mcp::access::{Permissions, Principal};
use mem0_mcp::memory::{Metadata, NewMemory, Scope, content_hash, now};
use mem0_mcp::project::ProjectMode;
use mem0_mcp::settings::Secret;
use mem0_mcp::store::{InsertOutcome, MemoryStore, PostgresStore, SearchTerms, SqliteStore};
use sqlx::Connection;
use uuid::Uuid;

use crate::support::{Backend, PgDatabase};

on_both_backends!(every_query_shape_uses_the_index);

/// The query shapes of realistic questions.
const SHAPES: [(&str, &str); 4] = [
    (
        "plain question",
        "what did the team decide about the release",
    ),
    (
        "possessive",
        "What did Maria's team decide about the release?",
    ),
    ("identifier", "file-17.yaml"),
    ("common word", "release"),
];

/// Memories in each of the two scopes.
const MEMORIES: usize = 500;

/// Subjects, actions and objects of the generated memories: "release" is in one memory of 4,
/// "team", "decide" and "Maria" in one of 20 or fewer, `file-17.yaml` in one.
const SUBJECTS: [&str; 20] = [
    "the team",
    "Maria",
    "the build",
    "our linter",
    "the API",
    "the docs",
    "CI",
    "the cache",
    "the parser",
    "the installer",
    "the schema",
    "the router",
    "the queue",
    "the scheduler",
    "the exporter",
    "the tracer",
    "the client",
    "the proxy",
    "the importer",
    "the backup job",
];
const ACTIONS: [&str; 7] = [
    "decided on",
    "prefers",
    "broke",
    "needs",
    "replaced",
    "documents",
    "tests",
];
const OBJECTS: [&str; 4] = [
    "the release",
    "tabs over spaces",
    "PostgreSQL 15",
    "a nightly run",
];

fn memory_text(i: usize) -> String {
    format!(
        "{} {} {} (see file-{i}.yaml, note {i})",
        SUBJECTS[i % SUBJECTS.len()],
        ACTIONS[i % ACTIONS.len()],
        OBJECTS[i % OBJECTS.len()]
    )
}

fn scope(project: &str) -> Scope {
    Scope {
        user_id: "alice".into(),
        project_id: project.into(),
        mode: ProjectMode::Manual,
    }
}

async fn every_query_shape_uses_the_index(backend: Backend) {
    let dir = tempfile::Builder::new()
        .prefix("m0t-plans-")
        .tempdir()
        .unwrap();
    let pg = (backend == Backend::Postgres).then(PgDatabase::create);
    if let Some(db) = &pg {
        // A test-sized table is cheaper to read whole than through any index, and PostgreSQL
        // rightly reads it whole; with sequential scans priced out the plan shows whether the
        // index can serve the query at all, as it must for a scope of 10k memories.
        let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET enable_seqscan = off', current_database()); END $$")
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let store: Arc<dyn MemoryStore> = match &pg {
        None => Arc::new(
            SqliteStore::open(&dir.path().join("mem0.db"))
                .await
                .unwrap(),
        ),
        Some(db) => Arc::new(
            PostgresStore::open(&Secret::new(db.url.clone()), Duration::from_secs(60)).unwrap(),
        ),
    };
    store.migrate().await.unwrap();
    let actor = Principal {
        user_id: "alice".into(),
        permissions: Permissions::READ_WRITE,
        token_display_id: None,
    };
    // Two scopes of varied memories sharing common words, so a plan that walks a whole scope
    // or the whole table shows.
    for project in ["proj-plans", "proj-other"] {
        for i in 0..MEMORIES {
            let content = memory_text(i);
            let new = NewMemory {
                id: Uuid::now_v7(),
                content_hash: content_hash(&content),
                content,
                tags: vec![],
                metadata: Metadata::new(),
                at: now(),
                expires_at: None,
                vector: None,
            };
            let outcome = store
                .insert_memory(&scope(project), &new, &actor, 100_000)
                .await
                .unwrap();
            assert!(matches!(outcome, InsertOutcome::Inserted(_)));
        }
    }
    analyze(backend, dir.path().join("mem0.db"), pg.as_ref()).await;

    for (shape, query) in SHAPES {
        let terms = SearchTerms::parse(query);
        let plan = store
            .explain_search(&scope("proj-plans"), &terms, &[], 10)
            .await
            .unwrap();
        eprintln!("--- {backend:?} {shape}: {query}\n{plan}");
        check_plan(backend, shape, !terms.fragments.is_empty(), &plan);
        let found = store
            .search_memories(&scope("proj-plans"), &terms, &[], 10)
            .await
            .unwrap();
        assert!(!found.is_empty(), "{shape}: {query} found nothing");
    }

    // What the in-process index reads before a search (the scope's stamp), to build itself (the
    // scope's memories) and for the results (by id): by key and through the scope's index.
    let plan = store
        .explain_scope_reads(&scope("proj-plans"))
        .await
        .unwrap();
    eprintln!("--- {backend:?} scope reads\n{plan}");
    match backend {
        Backend::Sqlite => {
            assert!(
                plan.contains(
                    "SEARCH memory_scope_counts USING PRIMARY KEY (scope_user=? AND project_id=?)"
                ),
                "{plan}"
            );
            assert!(
                plan.contains("SEARCH memories USING INDEX memories_scope_"),
                "{plan}"
            );
            // The results, by id.
            assert!(
                plan.contains("SEARCH m USING INDEX sqlite_autoindex_memories_1 (id=?)"),
                "{plan}"
            );
        }
        Backend::Postgres => {
            assert!(!plan.contains("Seq Scan"), "{plan}");
            assert!(plan.contains("memory_scope_counts_pkey"), "{plan}");
            assert!(plan.contains("on memories_scope_"), "{plan}");
            assert!(plan.contains("using memories_pkey"), "{plan}");
        }
    }
}

/// The plan finds the matches through the index and evaluates the full-text match once.
fn check_plan(backend: Backend, shape: &str, has_fragments: bool, plan: &str) {
    match backend {
        Backend::Sqlite => {
            // The match runs once, inside the full-text index, into a materialized list.
            assert_eq!(
                plan.matches("SCAN memories_fts VIRTUAL TABLE INDEX")
                    .count(),
                1,
                "{shape}: the full-text match is not run exactly once:\n{plan}"
            );
            assert!(plan.contains("MATERIALIZE fts"), "{shape}:\n{plan}");
            // Memories are reached by key or through the scope's index, never by a table walk.
            assert!(
                plan.contains("SEARCH m USING INTEGER PRIMARY KEY")
                    || plan.contains("SEARCH m USING INDEX memories_scope_content (scope_user=? AND project_id=?)"),
                "{shape}: memories not reached through the scope or by key:\n{plan}"
            );
            assert!(
                !plan.contains("SCAN m\n") && !plan.ends_with("SCAN m"),
                "{shape}:\n{plan}"
            );
        }
        Backend::Postgres => {
            assert!(!plan.contains("Seq Scan"), "{shape}:\n{plan}");
            if has_fragments {
                // Substring fragments (possessives, identifiers) still read the scope and test
                // the full-text match row by row on PostgreSQL: not held to the index yet.
                return;
            }
            assert!(
                plan.contains("Bitmap Index Scan on memories_scope_search"),
                "{shape}: the scoped full-text index is not used:\n{plan}"
            );
            let index_cond = plan
                .lines()
                .find(|l| l.trim_start().starts_with("Index Cond:"))
                .unwrap_or_default();
            assert!(
                index_cond.contains("scope_user") && index_cond.contains("@@"),
                "{shape}: the scope and the match are not both index conditions:\n{plan}"
            );
            let filters = plan
                .lines()
                .filter(|l| l.trim_start().starts_with("Filter:"));
            assert!(
                filters.clone().all(|l| !l.contains("@@")),
                "{shape}: the match is evaluated row by row:\n{plan}"
            );
        }
    }
}

/// Fresh statistics, as a database that has been in use has.
async fn analyze(backend: Backend, sqlite_file: PathBuf, pg: Option<&PgDatabase>) {
    match backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", sqlite_file.display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&pg.unwrap().url).await.unwrap();
            sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
        }
    }
}
