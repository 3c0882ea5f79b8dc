//! The `semantic` part: search and add with the `builtin` embedding provider against `none`,
//! side by side in one run, on both backends, with 1,000 coding-assistant facts in scope.
//!
//! Per backend: the facts are added through a `builtin` server (so each has its vector);
//! then cold starts alternate between the two providers (spawn → `initialize`, and → the
//! first search's result, which for `builtin` waits for the model to load); then one server
//! of each provider runs, and every search and every add is sent to one and then the other,
//! so both see the same machine at the same moment. Searches are natural-language questions
//! about one fact each (recall@5 says how often that fact came back). Last, a third of that
//! many searches each right after an add, one provider after the other (the new memory and
//! its vector must be seen without reading the whole scope again). Peak RSS (VmHWM) is read
//! at the end, after the model loaded and every call ran.
//!
//! The model is `MEM0_BENCH_MODEL` if set (e.g. an installed potion-base-8M), else the test
//! model of `scripts/build-test-model.sh` stored as float32: distilled from
//! all-MiniLM-L6-v2 onto potion-base-8M's shape (the same 29,528-token vocabulary, 256
//! dimensions, an f32 table of 30 MB), so its memory and speed stand for potion's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::json;

use super::{Client, Launch, PgBench, Stats, f2, ms, row, stats};

/// A server's environment variables.
type Env = Vec<(&'static str, String)>;

/// Reads one number off a backend's result.
type Measure<'a> = &'a dyn Fn(&SemanticResult) -> f64;

/// Facts in scope while measuring.
const IN_SCOPE: usize = 1_000;

const SERVICES: [&str; 10] = [
    "billing",
    "search",
    "auth",
    "payments",
    "notifications",
    "inventory",
    "reporting",
    "gateway",
    "scheduler",
    "analytics",
];
const PARTS: [&str; 10] = [
    "api", "worker", "web", "sync", "admin", "cli", "proxy", "indexer", "exporter", "importer",
];
const PEOPLE: [&str; 7] = ["Priya", "Tomás", "Mei", "Jonas", "Aisha", "Dmitri", "Grace"];
const PLATFORMS: [&str; 4] = ["Fly.io", "Kubernetes", "AWS Lambda", "a Hetzner VM"];
const DATABASES: [&str; 3] = ["PostgreSQL 16", "Redis 7", "MySQL 8"];

/// The service a fact is about: 100 of them, `billing-api` to `analytics-importer`.
fn service(i: usize) -> String {
    let s = (i / 10) % 100;
    format!("{}-{}", SERVICES[s % 10], PARTS[s / 10])
}

/// Fact `i`: one of ten kinds of thing a coding assistant is told, about one of 100
/// services; from 1,000 on, the same kinds again in later sprints.
fn fact(i: usize) -> String {
    let svc = service(i);
    let person = PEOPLE[i % 7];
    let text = match i % 10 {
        0 => format!(
            "The {svc} service deploys to {} through GitHub Actions on every merge to main.",
            PLATFORMS[i % 4]
        ),
        1 => format!("Run `make lint test` before committing changes in the {svc} repository."),
        2 => format!(
            "{svc} reads its database connection string from the {}_DATABASE_URL variable.",
            svc.to_uppercase().replace('-', "_")
        ),
        3 => format!(
            "Integration tests for {svc} need a local {} on port {}.",
            DATABASES[i % 3],
            5400 + i % 97
        ),
        4 => format!("{person} owns the {svc} codebase and reviews every pull request there."),
        5 => format!(
            "In {svc}, errors are thiserror enums at module boundaries and are logged once, where handled."
        ),
        6 => format!(
            "The {svc} endpoints paginate with opaque cursors, never offsets, capped at {} items a page.",
            50 + 10 * (i % 5)
        ),
        7 => format!(
            "{svc} keeps user sessions in Redis and expires them after {} minutes idle.",
            15 + 5 * (i % 4)
        ),
        8 => format!(
            "Code in {svc} is formatted with rustfmt, max_width {}, and clippy warnings fail CI.",
            90 + 10 * (i % 3)
        ),
        _ => format!(
            "Feature flags for {svc} live in LaunchDarkly; {person} removes each after two releases."
        ),
    };
    match i / IN_SCOPE {
        0 => text,
        sprint => format!("{text} (Agreed in sprint {sprint}.)"),
    }
}

/// A question about fact `i` in other words, as a user would ask it.
fn question(i: usize) -> String {
    let svc = service(i);
    match i % 10 {
        0 => format!("How does {svc} get shipped to production?"),
        1 => format!("What should I run before I commit to {svc}?"),
        2 => format!("Where does {svc} get its DB credentials from?"),
        3 => format!("What do I need running locally to test {svc}?"),
        4 => format!("Who should review my {svc} changes?"),
        5 => format!("How are failures handled and reported in {svc}?"),
        6 => format!("How does paging work in the {svc} API?"),
        7 => format!("How long does a login to {svc} stay valid?"),
        8 => format!("What code style rules does {svc} follow?"),
        _ => format!("Where are the {svc} feature toggles configured?"),
    }
}

/// Where the model comes from, and its directory.
fn model() -> (String, PathBuf) {
    if let Some(dir) = std::env::var_os("MEM0_BENCH_MODEL") {
        let dir = PathBuf::from(dir);
        return (format!("`{}`", dir.display()), dir);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-model.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--dtype", "float32"])
        .output()
        .expect("run scripts/build-test-model.sh");
    assert!(
        out.status.success(),
        "scripts/build-test-model.sh failed (set MEM0_BENCH_MODEL to a model directory instead):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (
        "the test model stored as float32 (`scripts/build-test-model.sh --dtype float32`: all-MiniLM-L6-v2 distilled to potion-base-8M's shape, 29,528 tokens × 256 dimensions, a 30 MB f32 table)".into(),
        dir,
    )
}

/// One provider's numbers in one backend.
#[derive(Debug, serde::Serialize)]
pub struct ProviderRun {
    provider: String,
    initialize_ms: Stats,
    first_search_ms: Stats,
    add_ms: Stats,
    search_ms: Stats,
    /// A search right after this process added a memory to the scope.
    after_add_ms: Stats,
    recall_at_5: f64,
    peak_rss_kb: u64,
}

/// Both providers in one backend.
#[derive(Debug, serde::Serialize)]
pub struct SemanticResult {
    backend: String,
    none: ProviderRun,
    builtin: ProviderRun,
}

/// Samples of one provider while the run goes on.
#[derive(Default)]
struct Samples {
    init: Vec<f64>,
    first: Vec<f64>,
    add: Vec<f64>,
    search: Vec<f64>,
    after_add: Vec<f64>,
    found: usize,
    peak_kb: u64,
}

impl Samples {
    fn finish(self, provider: &str, searches: usize) -> ProviderRun {
        ProviderRun {
            provider: provider.into(),
            initialize_ms: stats(self.init),
            first_search_ms: stats(self.first),
            add_ms: stats(self.add),
            search_ms: stats(self.search),
            after_add_ms: stats(self.after_add),
            recall_at_5: self.found as f64 / searches.max(1) as f64,
            peak_rss_kb: self.peak_kb,
        }
    }
}

/// Measures one backend, whose server environment (database, scope) is `env`.
fn bench_backend(
    backend: &str,
    env: Env,
    model: &Path,
    cwd: &Path,
    reps: usize,
    calls: usize,
) -> SemanticResult {
    let with = |provider: &str| -> Env {
        let mut env = env.clone();
        env.push(("MEM0_EMBEDDING_PROVIDER", provider.into()));
        if provider == "builtin" {
            env.push(("MEM0_EMBEDDING_MODEL", model.display().to_string()));
        }
        env
    };
    let launch = |provider: &str| Launch {
        env: with(provider),
        cwd,
        stderr: None,
    };
    let start = |provider: &str| {
        let (mut client, _) = Client::spawn(&launch(provider)).expect("spawn");
        client.initialize().expect("initialize");
        client
    };

    // The facts, each with its vector.
    let mut loader = start("builtin");
    for i in 0..IN_SCOPE {
        loader
            .call("add_memory", json!({"content": fact(i)}))
            .expect("add a fact");
    }
    loader.close();

    let providers = ["none", "builtin"];
    let mut samples = [Samples::default(), Samples::default()];
    for rep in 0..reps {
        for (p, provider) in providers.iter().enumerate() {
            let (mut client, started) = Client::spawn(&launch(provider)).expect("spawn");
            client.initialize().expect("initialize");
            samples[p].init.push(ms(started.elapsed()));
            client
                .call(
                    "search_memories",
                    json!({"query": question(rep * 37 % IN_SCOPE), "limit": 5}),
                )
                .expect("first search");
            samples[p].first.push(ms(started.elapsed()));
            client.close();
        }
    }

    let mut clients = providers.map(start);
    for client in &mut clients {
        // Loads the model (builtin) and fills the scope's vector cache before timing.
        client
            .call("search_memories", json!({"query": question(0), "limit": 5}))
            .expect("warm-up search");
    }
    for i in 0..calls {
        let target = (i * 7919) % IN_SCOPE;
        let wanted = fact(target);
        for (p, client) in clients.iter_mut().enumerate() {
            let (result, took) = client
                .call(
                    "search_memories",
                    json!({"query": question(target), "limit": 5}),
                )
                .expect("search");
            samples[p].search.push(ms(took));
            if result.to_string().contains(&wanted) {
                samples[p].found += 1;
            }
        }
    }
    for i in 0..calls {
        for (p, client) in clients.iter_mut().enumerate() {
            let content = fact(IN_SCOPE * (1 + p) + i);
            let (_, took) = client
                .call("add_memory", json!({"content": content}))
                .expect("add");
            samples[p].add.push(ms(took));
        }
    }
    // Searches that each follow an add: the server must see the new memory (and, with a
    // provider, its vector) without reading the whole scope again. One provider after the
    // other, not call by call: both servers share the scope, so each one's add would be a
    // write by another process to the other, which rebuilds its index (measured apart, in the
    // shapes part).
    for (p, client) in clients.iter_mut().enumerate() {
        // The other provider's adds are foreign writes: seen once, here.
        client
            .call("search_memories", json!({"query": question(1), "limit": 5}))
            .expect("search after the other provider's adds");
        for i in 0..calls / 3 {
            let content = fact(IN_SCOPE * (3 + p) + i);
            client
                .call("add_memory", json!({"content": content}))
                .expect("add before a search");
            let (_, took) = client
                .call(
                    "search_memories",
                    json!({"query": question(i * 7919 % IN_SCOPE), "limit": 5}),
                )
                .expect("search after an add");
            samples[p].after_add.push(ms(took));
        }
    }
    for (p, client) in clients.into_iter().enumerate() {
        samples[p].peak_kb = client.status_kb("VmHWM:").unwrap_or(0);
        client.close();
    }
    let [none, builtin] = samples;
    SemanticResult {
        backend: backend.into(),
        none: none.finish("none", calls),
        builtin: builtin.finish("builtin", calls),
    }
}

/// Runs the part on both backends. `scope` turns a server environment into one for the
/// bench's scope (manual project, raised memory limit).
pub fn run(
    runtime: &tokio::runtime::Runtime,
    admin_url: &str,
    work: &Path,
    cwd: &Path,
    scope: &dyn Fn(Env) -> Env,
    reps: usize,
    calls: usize,
) -> (String, Vec<SemanticResult>) {
    let (model_note, model_dir) = model();
    let started = Instant::now();
    let mut results = Vec::new();

    let dir = work.join("sqlite-semantic");
    std::fs::create_dir_all(&dir).unwrap();
    results.push(bench_backend(
        "embedded SQLite",
        scope(vec![("MEM0_DATA_DIR", dir.display().to_string())]),
        &model_dir,
        cwd,
        reps,
        calls,
    ));
    println!("semantic, sqlite: done");

    let pg = PgBench::create(runtime, admin_url, "semantic");
    results.push(bench_backend(
        "PostgreSQL",
        scope(pg.env()),
        &model_dir,
        cwd,
        reps,
        calls,
    ));
    pg.drop_database(runtime);
    println!(
        "semantic, postgres: done ({:.0} s in all)",
        started.elapsed().as_secs_f64()
    );
    (render(&results, &model_note, reps, calls), results)
}

fn render(results: &[SemanticResult], model: &str, reps: usize, calls: usize) -> String {
    let mut out = format!(
        "Measured by `MEM0_BENCH_ONLY=semantic cargo bench --bench serve` on {} ({} binary; {IN_SCOPE} facts in scope, {reps} cold starts, {calls} calls per provider alternating call by call, then {} searches each after an add, one provider after the other). Model: {model}.\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        if std::env::var_os("MEM0_BENCH_BIN").is_some() {
            "the `cargo build --release`"
        } else {
            "the release"
        },
        calls / 3,
    );
    out.push_str("| backend | provider | initialize p50 / p99 ms | first search p50 ms | add_memory p50 / p99 ms | search_memories p50 / p99 ms | search after an add p50 / p99 ms | recall@5 | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|\n");
    let pair = |s: &Stats| format!("{} / {}", f2(s.p50), f2(s.p99));
    let mb = |kb: u64| format!("{:.1}", kb as f64 / 1024.0);
    for r in results {
        for p in [&r.none, &r.builtin] {
            out.push_str(&row(&[
                r.backend.clone(),
                format!("`{}`", p.provider),
                pair(&p.initialize_ms),
                f2(p.first_search_ms.p50),
                pair(&p.add_ms),
                pair(&p.search_ms),
                pair(&p.after_add_ms),
                format!("{:.2}", p.recall_at_5),
                mb(p.peak_rss_kb),
            ]));
        }
        let (n, b) = (&r.none, &r.builtin);
        out.push_str(&row(&[
            r.backend.clone(),
            "builtin ÷ none".into(),
            format!(
                "{} / {}",
                f2(b.initialize_ms.p50 / n.initialize_ms.p50),
                f2(b.initialize_ms.p99 / n.initialize_ms.p99)
            ),
            f2(b.first_search_ms.p50 / n.first_search_ms.p50),
            format!(
                "{} / {}",
                f2(b.add_ms.p50 / n.add_ms.p50),
                f2(b.add_ms.p99 / n.add_ms.p99)
            ),
            format!(
                "{} / {}",
                f2(b.search_ms.p50 / n.search_ms.p50),
                f2(b.search_ms.p99 / n.search_ms.p99)
            ),
            format!(
                "{} / {}",
                f2(b.after_add_ms.p50 / n.after_add_ms.p50),
                f2(b.after_add_ms.p99 / n.after_add_ms.p99)
            ),
            "".into(),
            f2(b.peak_rss_kb as f64 / n.peak_rss_kb.max(1) as f64),
        ]));
    }
    out.push_str("\n| target (`builtin`, 1,000 in scope) | measured | met? |\n|---|---|---|\n");
    let worst = |f: &dyn Fn(&SemanticResult) -> f64| results.iter().map(f).fold(f64::NAN, f64::max);
    let each = |f: &dyn Fn(&SemanticResult) -> f64, digits: usize| {
        results
            .iter()
            .map(|r| format!("{} {:.*}", r.backend, digits, f(r)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let met = |ok: bool| if ok { "met" } else { "**missed**" }.to_string();
    let targets: [(&str, Measure<'_>, f64, &str, usize); 5] = [
        (
            "`add_memory` p50 ≤ 2 ms",
            &|r| r.builtin.add_ms.p50,
            2.0,
            "ms",
            2,
        ),
        (
            "`search_memories` p50 ≤ 3 ms",
            &|r| r.builtin.search_ms.p50,
            3.0,
            "ms",
            2,
        ),
        (
            "`search_memories` p99 ≤ 10 ms",
            &|r| r.builtin.search_ms.p99,
            10.0,
            "ms",
            2,
        ),
        (
            "`initialize` unchanged (p50 ÷ `none`'s ≤ 1.1)",
            &|r| r.builtin.initialize_ms.p50 / r.none.initialize_ms.p50,
            1.1,
            "×",
            2,
        ),
        (
            "peak RSS ≤ 40 MB with the model loaded",
            &|r| r.builtin.peak_rss_kb as f64 / 1024.0,
            40.0,
            "MB",
            1,
        ),
    ];
    for (name, measure, limit, unit, digits) in targets {
        out.push_str(&row(&[
            name.into(),
            format!("{} {unit}", each(measure, digits)),
            met(worst(measure) <= limit),
        ]));
    }
    out
}
