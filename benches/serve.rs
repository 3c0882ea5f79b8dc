//! End-to-end benchmark: launches the release binary the way an MCP client does and measures
//! what users feel. Run it with `scripts/bench.sh` (which also runs the side-by-side comparison
//! with peer servers), or alone with `cargo bench --bench serve`.
//!
//! It measures, with a minimal JSON-RPC client over the child's stdin/stdout:
//! - cold start: spawn to the `initialize` response and to the first tool result, on the
//!   embedded database and on PostgreSQL with token validation;
//! - `add_memory`, `search_memories`, `list_memories` p50/p95/p99 with 1k and 10k memories in
//!   the scope (both backends), and in one scope of a table holding 1M rows over 1,000 users
//!   and projects (PostgreSQL);
//! - peak RSS (VmHWM) of the server process;
//! - search by query shape (plain and possessive questions, identifiers, common words, one rare
//!   word) at 1k and 10k memories on both backends, each against plain questions in the same run;
//! - many clients: N servers started at once against one PostgreSQL, all answering a tool call;
//! - semantic search: the `builtin` embedding provider against `none` side by side, 1,000
//!   facts in scope, both backends (see `serve/semantic.rs`).
//!
//! Results go to `target/bench/serve.json` and, as a table with the machine and versions, to
//! `BENCHMARKS.md` (the part between the `serve` markers; search by shape between the `shapes`
//! markers; semantic search between the `semantic` markers). Timings are never assertions.
//!
//! Environment: `MEM0_BENCH_ADMIN_URL` (default `postgresql://postgres@127.0.0.1:5432/postgres`),
//! `MEM0_BENCH_REPS` (cold starts per case, default 20), `MEM0_BENCH_CALLS` (calls per
//! operation, default 300), `MEM0_BENCH_BIG=0` skips the 1M-row case, `MEM0_BENCH_CLIENTS`
//! (comma-separated counts for the many-clients case, default `100,200`), `MEM0_BENCH_ONLY`
//! (`startup`, `latency`, `shapes`, `many`, `semantic`, comma-separated; default all five),
//! `MEM0_BENCH_BIN` (the server binary to measure; default the one cargo builds for this bench),
//! `MEM0_BENCH_MODEL` (the `builtin` model directory for `semantic`; default the test model
//! stored as float32).

// A benchmark's output is its point.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[path = "serve/semantic.rs"]
mod semantic;

/// The server measured: `MEM0_BENCH_BIN` if set, else the binary cargo built for this bench.
/// `scripts/bench.sh` sets it to a plain `cargo build --release` binary, because the one cargo
/// builds next to a bench carries the dev-dependencies' extra features (about 0.7 MB more code
/// resident) and so is not quite what users run.
fn bin() -> PathBuf {
    std::env::var_os("MEM0_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mem0-mcp")))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A server process driven with raw JSON-RPC lines.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    line: String,
}

struct Launch<'a> {
    env: Vec<(&'a str, String)>,
    cwd: &'a Path,
    /// Where the server's stderr goes (discarded when `None`).
    stderr: Option<PathBuf>,
}

impl Client {
    fn spawn(launch: &Launch<'_>) -> std::io::Result<(Client, Instant)> {
        let mut command = Command::new(bin());
        for (name, _) in std::env::vars() {
            if name.starts_with("MEM0_") || name.starts_with("PROJECT_") {
                command.env_remove(name);
            }
        }
        command
            .env("MEM0_LOG", "warn")
            .current_dir(launch.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(match &launch.stderr {
                Some(path) => Stdio::from(std::fs::File::create(path)?),
                None => Stdio::null(),
            });
        for (k, v) in &launch.env {
            command.env(k, v);
        }
        let started = Instant::now();
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok((
            Client {
                child,
                stdin,
                stdout,
                next_id: 1,
                line: String::new(),
            },
            started,
        ))
    }

    fn send(&mut self, message: &Value) -> std::io::Result<()> {
        let stdin = self.stdin.as_mut().expect("open stdin");
        let mut text = message.to_string();
        text.push('\n');
        stdin.write_all(text.as_bytes())?;
        stdin.flush()
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .map_err(|e| format!("write: {e}"))?;
        loop {
            self.line.clear();
            let n = self
                .stdout
                .read_line(&mut self.line)
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("the server closed stdout".into());
            }
            let message: Value =
                serde_json::from_str(self.line.trim()).map_err(|e| format!("not JSON: {e}"))?;
            if message["id"] == json!(id) {
                if let Some(error) = message.get("error") {
                    return Err(format!("JSON-RPC error: {error}"));
                }
                return Ok(message["result"].clone());
            }
        }
    }

    fn initialize(&mut self) -> Result<(), String> {
        self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "mem0-bench", "version": "1"}}),
        )?;
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .map_err(|e| e.to_string())
    }

    /// Calls a tool; a tool error is an error here.
    fn call(&mut self, tool: &str, arguments: Value) -> Result<(Value, Duration), String> {
        let started = Instant::now();
        let result = self.request("tools/call", json!({"name": tool, "arguments": arguments}))?;
        let took = started.elapsed();
        if result["isError"] == json!(true) {
            return Err(format!("{tool}: {}", result["content"]));
        }
        Ok((result["structuredContent"].clone(), took))
    }

    fn status_kb(&self, key: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    fn close(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone, serde::Serialize)]
struct Stats {
    n: usize,
    p50: f64,
    p95: f64,
    p99: f64,
}

fn stats(mut samples: Vec<f64>) -> Stats {
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        if samples.is_empty() {
            return f64::NAN;
        }
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index]
    };
    Stats {
        n: samples.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A throw-away PostgreSQL database, migrated, with a token for the bench user.
struct PgBench {
    admin_url: String,
    name: String,
    url: String,
    token: String,
}

impl PgBench {
    fn create(runtime: &tokio::runtime::Runtime, admin_url: &str, tag: &str) -> PgBench {
        let name = format!("m0bench_{tag}_{}", std::process::id());
        runtime.block_on(async {
            let admin = sqlx::PgPool::connect(admin_url)
                .await
                .expect("the benchmark needs PostgreSQL (MEM0_BENCH_ADMIN_URL)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .expect("create the benchmark database");
            admin.close().await;
        });
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(admin_url);
        let url = format!("{base}/{name}");
        run_cli(&url, &["migrate"], &[]);
        let out = run_cli(&url, &["token", "create", "--user-id", "bench"], &[]);
        let token = out
            .lines()
            .find_map(|l| l.strip_prefix("Token:"))
            .map(|t| t.trim().to_string())
            .expect("token create prints the token");
        PgBench {
            admin_url: admin_url.to_string(),
            name,
            url,
            token,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MEM0_DATABASE_URL", self.url.clone()),
            ("MEM0_TOKEN", self.token.clone()),
            ("MEM0_USER_ID", "bench".into()),
        ]
    }

    fn drop_database(&self, runtime: &tokio::runtime::Runtime) {
        runtime.block_on(async {
            if let Ok(admin) = sqlx::PgPool::connect(&self.admin_url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )))
                .execute(&admin)
                .await;
                admin.close().await;
            }
        });
    }
}

fn run_cli(url: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env("MEM0_DATABASE_URL", url)
        .env("MEM0_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("run mem0-mcp");
    assert!(
        out.status.success(),
        "mem0-mcp {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const ADJ: [&str; 10] = [
    "amber", "brisk", "calm", "dusty", "eager", "fuzzy", "gentle", "hollow", "icy", "jolly",
];
const NOUN: [&str; 10] = [
    "otter", "falcon", "lantern", "meadow", "rocket", "willow", "harbor", "pepper", "comet",
    "violin",
];

/// Fact `i` of scope `s`, with a token found nowhere else.
fn fact(scope: usize, i: usize) -> (String, String) {
    let token = format!("zx{scope:04}n{i:07}q");
    let text = format!(
        "Fact {i}: the {} {} deploys with pnpm and is filed under {token}.",
        ADJ[i % 10],
        NOUN[(i / 10) % 10]
    );
    (text, token)
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads `count` memories into the bench user's scope (manual project `bench`) of the embedded
/// database, in multi-row inserts (the FTS triggers index them).
fn load_sqlite(runtime: &tokio::runtime::Runtime, db: &Path, count: usize) {
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open the embedded database");
        let mut tx = pool.begin().await.unwrap();
        for chunk in (0..count).collect::<Vec<_>>().chunks(400) {
            let mut sql = String::from(
                "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, tags, metadata, created_at, updated_at) VALUES ",
            );
            let mut values = Vec::new();
            for (n, i) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(',');
                }
                sql.push_str("(?, 'bench', 'bench', 'bench', ?, ?, '[]', '{}', ?, ?)");
                let (text, _) = fact(0, *i);
                let at = format!("2026-01-01T00:00:00.{:06}Z", i % 1_000_000);
                values.push((uuid::Uuid::now_v7().to_string(), hex_sha256(&text), text, at));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, hash, text, at) in values {
                query = query.bind(id).bind(text).bind(hash).bind(at.clone()).bind(at);
            }
            query.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        pool.close().await;
    });
}

/// Loads memories server-side: `per_scope` in each of `scopes` scopes (user `bench` / project
/// `bench` is scope 0; the others are `user{s}` / `proj{s}`).
fn load_postgres(runtime: &tokio::runtime::Runtime, url: &str, scopes: usize, per_scope: usize) {
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let batch = 100_000usize.max(per_scope);
        let total = scopes * per_scope;
        let mut start = 0usize;
        while start < total {
            let end = (start + batch).min(total);
            sqlx::query(
                "INSERT INTO memories (id, user_id, scope_user, project_id, content, content_hash, tags, metadata, created_at, updated_at)
                 SELECT gen_random_uuid(), u, u, p, c, encode(sha256(convert_to(c, 'UTF8')), 'hex'), '[]', '{}',
                        now() - make_interval(secs => g), now() - make_interval(secs => g)
                 FROM (
                     SELECT g,
                            CASE WHEN g % $1 = 0 THEN 'bench' ELSE 'user' || (g % $1) END AS u,
                            CASE WHEN g % $1 = 0 THEN 'bench' ELSE 'proj' || (g % $1) END AS p,
                            'Fact ' || (g / $1) || ': the ' || (ARRAY['amber','brisk','calm','dusty','eager','fuzzy','gentle','hollow','icy','jolly'])[1 + (g / $1) % 10]
                              || ' ' || (ARRAY['otter','falcon','lantern','meadow','rocket','willow','harbor','pepper','comet','violin'])[1 + ((g / $1) / 10) % 10]
                              || ' deploys with pnpm and is filed under zx' || lpad((g % $1)::text, 4, '0') || 'n' || lpad((g / $1)::text, 7, '0') || 'q.' AS c
                     FROM generate_series($2::bigint, $3::bigint) AS g
                 ) rows",
            )
            .bind(scopes as i64)
            .bind(start as i64)
            .bind(end as i64 - 1)
            .execute(&pool)
            .await
            .expect("bulk load");
            start = end;
        }
        sqlx::query("ANALYZE memories").execute(&pool).await.unwrap();
        pool.close().await;
    });
}

#[derive(Debug, serde::Serialize)]
struct StartupResult {
    backend: String,
    initialize_ms: Stats,
    first_tool_ms: Stats,
    rss_after_start_kb: Stats,
}

fn bench_startup(backend: &str, launch: &Launch<'_>, reps: usize) -> StartupResult {
    let (mut init, mut first, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        let (mut client, started) = Client::spawn(launch).expect("spawn");
        client.initialize().expect("initialize");
        init.push(ms(started.elapsed()));
        client
            .call("memory_status", json!({}))
            .expect("memory_status");
        first.push(ms(started.elapsed()));
        rss.push(client.status_kb("VmRSS:").unwrap_or(0) as f64);
        client.close();
    }
    StartupResult {
        backend: backend.into(),
        initialize_ms: stats(init),
        first_tool_ms: stats(first),
        rss_after_start_kb: stats(rss),
    }
}

#[derive(Debug, serde::Serialize)]
struct LatencyResult {
    case: String,
    add_ms: Stats,
    search_ms: Stats,
    list_ms: Stats,
    recall: f64,
    peak_rss_kb: u64,
}

fn bench_latency(case: &str, launch: &Launch<'_>, in_scope: usize, calls: usize) -> LatencyResult {
    let (mut client, _) = Client::spawn(launch).expect("spawn");
    client.initialize().expect("initialize");
    let (mut add, mut search, mut list) = (Vec::new(), Vec::new(), Vec::new());
    let mut found = 0usize;
    for i in 0..calls {
        // A loaded fact spread over the whole scope, found by its unique token.
        let target = (i * 7919) % in_scope.max(1);
        let (_, token) = fact(0, target);
        let (result, took) = client
            .call("search_memories", json!({"query": token, "limit": 5}))
            .expect("search");
        search.push(ms(took));
        if result.to_string().contains(&token) {
            found += 1;
        }
    }
    for i in 0..calls {
        let (_, took) = client
            .call("list_memories", json!({"limit": 50}))
            .expect("list");
        list.push(ms(took));
        let (text, _) = fact(9999, in_scope + i);
        let (_, took) = client
            .call("add_memory", json!({"content": text}))
            .expect("add");
        add.push(ms(took));
    }
    let peak = client.status_kb("VmHWM:").unwrap_or(0);
    client.close();
    LatencyResult {
        case: case.into(),
        add_ms: stats(add),
        search_ms: stats(search),
        list_ms: stats(list),
        recall: found as f64 / calls.max(1) as f64,
        peak_rss_kb: peak,
    }
}

/// Search latency by query shape in one case: each shape's p50 / p99, and its p50 against the
/// p50 of plain questions measured in the same run.
#[derive(Debug, serde::Serialize)]
struct ShapesResult {
    case: String,
    shapes: Vec<(String, Stats)>,
}

/// The query shapes a model sends, each built around loaded fact `i`.
fn shaped_query(shape: &str, i: usize) -> String {
    let (adj, noun) = (ADJ[i % 10], NOUN[(i / 10) % 10]);
    match shape {
        "plain question" => format!("Which {adj} {noun} deploys with pnpm?"),
        "possessive question" => {
            format!("What did the {noun}'s team decide about the {adj} deploys?")
        }
        "identifier" => format!("{adj}-{noun}.yaml"),
        "common words" => "deploys with pnpm".to_string(),
        "rare word" => fact(0, i).1,
        other => unreachable!("unknown shape {other}"),
    }
}

const SHAPES: [&str; 5] = [
    "plain question",
    "possessive question",
    "identifier",
    "common words",
    "rare word",
];

fn bench_shapes(case: &str, launch: &Launch<'_>, in_scope: usize, calls: usize) -> ShapesResult {
    let (mut client, _) = Client::spawn(launch).expect("spawn");
    client.initialize().expect("initialize");
    let mut shapes = Vec::new();
    // The first search of a process indexes the scope; every later one reuses the index.
    let (_, took) = client
        .call(
            "search_memories",
            json!({"query": shaped_query("plain question", 0), "limit": 10}),
        )
        .expect("search");
    shapes.push((
        "first search (indexes the scope)".to_string(),
        stats(vec![ms(took)]),
    ));
    for shape in SHAPES {
        let mut samples = Vec::new();
        for i in 0..calls {
            let target = (i * 7919) % in_scope.max(1);
            let (_, took) = client
                .call(
                    "search_memories",
                    json!({"query": shaped_query(shape, target), "limit": 10}),
                )
                .expect("search");
            samples.push(ms(took));
        }
        shapes.push((shape.to_string(), stats(samples)));
    }
    // What a session does all the time: store a fact, then search. The write changes the
    // scope, so the search first brings the index up to date.
    let mut samples = Vec::new();
    for i in 0..calls {
        let (text, _) = fact(8888, i);
        client
            .call("add_memory", json!({"content": text}))
            .expect("add");
        let target = (i * 7919) % in_scope.max(1);
        let (_, took) = client
            .call(
                "search_memories",
                json!({"query": shaped_query("plain question", target), "limit": 10}),
            )
            .expect("search");
        samples.push(ms(took));
    }
    shapes.push(("plain question after an add".to_string(), stats(samples)));
    client.close();
    ShapesResult {
        case: case.into(),
        shapes,
    }
}

fn render_shapes(shapes: &[ShapesResult], calls: usize) -> String {
    let mut out = format!(
        "Measured by `MEM0_BENCH_ONLY=shapes cargo bench --bench serve` on {} ({calls} searches per shape; the facts all share the words `deploys`, `pnpm` and `filed`).\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    out.push_str(
        "| case | shape | p50 ms | p99 ms | p50 ÷ plain question p50 |\n|---|---|---|---|---|\n",
    );
    for result in shapes {
        let plain = result
            .shapes
            .iter()
            .find(|(shape, _)| shape == "plain question")
            .map_or(f64::NAN, |(_, s)| s.p50);
        for (shape, s) in &result.shapes {
            out.push_str(&row(&[
                result.case.clone(),
                shape.clone(),
                f2(s.p50),
                f2(s.p99),
                f2(s.p50 / plain),
            ]));
        }
    }
    out
}

#[derive(Debug, serde::Serialize)]
struct ManyClientsResult {
    servers: usize,
    answered: usize,
    failed: usize,
    wall_s: f64,
    first_error: Option<String>,
}

/// Starts `n` servers at once; each initializes and calls memory_status, then all call
/// search_memories at the same moment while every process is still running.
fn bench_many_clients(pg: &PgBench, n: usize, cwd: &Path) -> ManyClientsResult {
    let started = Instant::now();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let env = pg.env();
            let cwd = cwd.to_path_buf();
            let barrier = barrier.clone();
            let stderr = cwd.join(format!("many-{n}-{i}.err"));
            std::thread::spawn(move || -> Result<(), String> {
                let launch = Launch {
                    env: env
                        .into_iter()
                        .chain([
                            ("PROJECT_ID_MODE", "manual".to_string()),
                            ("PROJECT_ID", "many".to_string()),
                        ])
                        .collect(),
                    cwd: &cwd,
                    stderr: Some(stderr.clone()),
                };
                // Every thread reaches the barrier, whatever happened before it.
                let mut client = None;
                let first =
                    Client::spawn(&launch)
                        .map_err(|e| e.to_string())
                        .and_then(|(mut c, _)| {
                            let answered = c
                                .initialize()
                                .and_then(|_| c.call("memory_status", json!({})).map(drop));
                            client = Some(c);
                            answered
                        });
                barrier.wait();
                let outcome = first.and_then(|_| match client.as_mut() {
                    Some(c) => c
                        .call("search_memories", json!({"query": "pnpm"}))
                        .map(drop),
                    None => Err("not started".into()),
                });
                if let Some(c) = client {
                    c.close();
                }
                // The server's own last words say why it stopped.
                outcome.map_err(|e| {
                    let said = std::fs::read_to_string(&stderr).unwrap_or_default();
                    match said.lines().rev().find(|l| !l.trim().is_empty()) {
                        Some(line) => format!("{e}: {line}"),
                        None => e,
                    }
                })
            })
        })
        .collect();
    let results: Vec<Result<(), String>> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))
        .collect();
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    ManyClientsResult {
        servers: n,
        answered: n - failed.len(),
        failed: failed.len(),
        wall_s: started.elapsed().as_secs_f64(),
        first_error: failed.first().map(|e| e.chars().take(200).collect()),
    }
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn machine() -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    vec![
        (
            "CPU".into(),
            format!(
                "{cpu} × {}",
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(0)
            ),
        ),
        ("Memory".into(), memory),
        ("Kernel".into(), command_line("uname", &["-r"])),
        (
            "mem0-mcp".into(),
            command_line(&bin().display().to_string(), &["--version"]),
        ),
        ("rustc".into(), command_line("rustc", &["--version"])),
        ("PostgreSQL".into(), command_line("psql", &["--version"])),
    ]
}

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

fn f2(v: f64) -> String {
    format!("{v:.2}")
}

fn render(
    startup: &[StartupResult],
    latency: &[LatencyResult],
    many: &[ManyClientsResult],
    reps: usize,
    calls: usize,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Measured by `cargo bench --bench serve` on {} (raw JSON-RPC client, {}; {reps} cold starts per backend, {calls} calls per operation).\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        if std::env::var_os("MEM0_BENCH_BIN").is_some() {
            "the `cargo build --release` binary"
        } else {
            "the release binary `cargo bench` builds"
        }
    ));
    out.push_str("| machine | |\n|---|---|\n");
    for (k, v) in machine() {
        out.push_str(&row(&[k, v]));
    }
    out.push_str("\n**Cold start** (spawn → response, ms; RSS after the first tool call)\n\n");
    out.push_str("| backend | initialize p50 | p95 | first tool result p50 | p95 | RSS MB |\n|---|---|---|---|---|---|\n");
    for s in startup {
        out.push_str(&row(&[
            s.backend.clone(),
            f2(s.initialize_ms.p50),
            f2(s.initialize_ms.p95),
            f2(s.first_tool_ms.p50),
            f2(s.first_tool_ms.p95),
            format!("{:.1}", s.rss_after_start_kb.p50 / 1024.0),
        ]));
    }
    out.push_str(
        "\n**Tool latency** (ms, p50 / p95 / p99; search finds a fact by its unique word)\n\n",
    );
    out.push_str("| case | add_memory | search_memories | list_memories (50) | recall | peak RSS MB |\n|---|---|---|---|---|---|\n");
    let triple = |s: &Stats| format!("{} / {} / {}", f2(s.p50), f2(s.p95), f2(s.p99));
    for l in latency {
        out.push_str(&row(&[
            l.case.clone(),
            triple(&l.add_ms),
            triple(&l.search_ms),
            triple(&l.list_ms),
            format!("{:.3}", l.recall),
            format!("{:.1}", l.peak_rss_kb as f64 / 1024.0),
        ]));
    }
    if !many.is_empty() {
        out.push_str("\n**Many clients** (servers started at once against one PostgreSQL with `max_connections = 100`; each answers `memory_status`, then all search at the same moment)\n\n");
        out.push_str(
            "| servers | answered | failed | wall s | first error |\n|---|---|---|---|---|\n",
        );
        for m in many {
            out.push_str(&row(&[
                m.servers.to_string(),
                m.answered.to_string(),
                m.failed.to_string(),
                format!("{:.1}", m.wall_s),
                m.first_error.clone().unwrap_or_else(|| "—".into()),
            ]));
        }
    }
    out
}

/// Replaces the text between `<!-- MARKER:start -->` and `<!-- MARKER:end -->` in BENCHMARKS.md
/// (creating the file if needed), leaving the rest (the side-by-side section) alone.
fn write_markdown(marker: &str, section: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let (start, end) = (
        format!("<!-- {marker}:start -->"),
        format!("<!-- {marker}:end -->"),
    );
    let (start, end) = (start.as_str(), end.as_str());
    let current = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| format!("# Benchmarks\n\n{start}\n{end}\n"));
    let updated = match (current.find(start), current.find(end)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{start}\n{section}{}", &current[..a], &current[b..])
        }
        _ => format!("{current}\n{start}\n{section}{end}\n"),
    };
    std::fs::write(&path, updated).expect("write BENCHMARKS.md");
    println!("updated {}", path.display());
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful either.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let reps = env_num("MEM0_BENCH_REPS", 20);
    let calls = env_num("MEM0_BENCH_CALLS", 300);
    let big = env_or("MEM0_BENCH_BIG", "1") != "0";
    let client_counts: Vec<usize> = env_or("MEM0_BENCH_CLIENTS", "100,200")
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let admin_url = env_or(
        "MEM0_BENCH_ADMIN_URL",
        "postgresql://postgres@127.0.0.1:5432/postgres",
    );
    // MEM0_BENCH_ONLY=startup,latency,shapes,many,semantic runs only those parts (the default
    // is all).
    let only = env_or("MEM0_BENCH_ONLY", "startup,latency,shapes,many,semantic");
    let wants = |part: &str| only.split(',').any(|p| p.trim() == part);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let manual = |env: Vec<(&'static str, String)>| -> Vec<(&'static str, String)> {
        env.into_iter()
            .chain([
                ("PROJECT_ID_MODE", "manual".to_string()),
                ("PROJECT_ID", "bench".to_string()),
                ("MEM0_USER_ID", "bench".to_string()),
                ("HOME", cwd.display().to_string()),
                // The scopes measured hold more than the default limit of 1,000.
                ("MEM0_MAX_MEMORIES_PER_CONTEXT", "10000000".to_string()),
            ])
            .collect()
    };

    let mut startup = Vec::new();
    let mut latency = Vec::new();
    let mut many = Vec::new();
    let mut shapes = Vec::new();

    // Embedded database: created once (the first start migrates it), then measured warm.
    let sqlite_dir = |tag: &str| -> PathBuf {
        let dir = work.path().join(tag);
        std::fs::create_dir_all(&dir).unwrap();
        let launch = Launch {
            env: manual(vec![("MEM0_DATA_DIR", dir.display().to_string())]),
            cwd: &cwd,
            stderr: None,
        };
        let (mut client, _) = Client::spawn(&launch).unwrap();
        client.initialize().unwrap();
        client.call("memory_status", json!({})).unwrap();
        client.close();
        dir
    };
    if wants("startup") {
        let dir = sqlite_dir("sqlite-start");
        startup.push(bench_startup(
            "embedded SQLite",
            &Launch {
                env: manual(vec![("MEM0_DATA_DIR", dir.display().to_string())]),
                cwd: &cwd,
                stderr: None,
            },
            reps,
        ));
        println!("cold start, sqlite: done");

        let pg = PgBench::create(&runtime, &admin_url, "start");
        startup.push(bench_startup(
            "PostgreSQL + token validation",
            &Launch {
                env: manual(pg.env()),
                cwd: &cwd,
                stderr: None,
            },
            reps,
        ));
        pg.drop_database(&runtime);
        println!("cold start, postgres: done");
    }

    for in_scope in [1_000usize, 10_000]
        .into_iter()
        .filter(|_| wants("latency"))
    {
        let dir = sqlite_dir(&format!("sqlite-{in_scope}"));
        load_sqlite(&runtime, &dir.join("mem0.db"), in_scope);
        latency.push(bench_latency(
            &format!("embedded SQLite, {in_scope} in scope"),
            &Launch {
                env: manual(vec![("MEM0_DATA_DIR", dir.display().to_string())]),
                cwd: &cwd,
                stderr: None,
            },
            in_scope,
            calls,
        ));
        println!("latency, sqlite {in_scope}: done");

        let pg = PgBench::create(&runtime, &admin_url, &format!("lat{in_scope}"));
        load_postgres(&runtime, &pg.url, 1, in_scope);
        latency.push(bench_latency(
            &format!("PostgreSQL, {in_scope} in scope"),
            &Launch {
                env: manual(pg.env()),
                cwd: &cwd,
                stderr: None,
            },
            in_scope,
            calls,
        ));
        pg.drop_database(&runtime);
        println!("latency, postgres {in_scope}: done");
    }

    for in_scope in [1_000usize, 10_000].into_iter().filter(|_| wants("shapes")) {
        let dir = sqlite_dir(&format!("sqlite-shapes-{in_scope}"));
        load_sqlite(&runtime, &dir.join("mem0.db"), in_scope);
        shapes.push(bench_shapes(
            &format!("embedded SQLite, {in_scope} in scope"),
            &Launch {
                env: manual(vec![("MEM0_DATA_DIR", dir.display().to_string())]),
                cwd: &cwd,
                stderr: None,
            },
            in_scope,
            calls,
        ));
        println!("shapes, sqlite {in_scope}: done");

        let pg = PgBench::create(&runtime, &admin_url, &format!("shapes{in_scope}"));
        load_postgres(&runtime, &pg.url, 1, in_scope);
        shapes.push(bench_shapes(
            &format!("PostgreSQL, {in_scope} in scope"),
            &Launch {
                env: manual(pg.env()),
                cwd: &cwd,
                stderr: None,
            },
            in_scope,
            calls,
        ));
        pg.drop_database(&runtime);
        println!("shapes, postgres {in_scope}: done");
    }

    if big && wants("latency") {
        let pg = PgBench::create(&runtime, &admin_url, "big");
        let loading = Instant::now();
        load_postgres(&runtime, &pg.url, 1_000, 1_000);
        println!("loaded 1M rows in {:.0} s", loading.elapsed().as_secs_f64());
        latency.push(bench_latency(
            "PostgreSQL, 1,000 in scope, 1M rows over 1,000 scopes",
            &Launch {
                env: manual(pg.env()),
                cwd: &cwd,
                stderr: None,
            },
            1_000,
            calls,
        ));
        pg.drop_database(&runtime);
        println!("latency, postgres 1M: done");
    }

    if !client_counts.is_empty() && wants("many") {
        let pg = PgBench::create(&runtime, &admin_url, "many");
        for n in &client_counts {
            many.push(bench_many_clients(&pg, *n, &cwd));
            println!("many clients, {n}: done");
        }
        pg.drop_database(&runtime);
    }

    if wants("semantic") {
        let (section, results) = semantic::run(
            &runtime,
            &admin_url,
            work.path(),
            &cwd,
            &manual,
            reps,
            calls,
        );
        println!("{section}");
        let json_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/semantic.json");
        std::fs::create_dir_all(json_path.parent().unwrap()).unwrap();
        std::fs::write(&json_path, serde_json::to_string_pretty(&results).unwrap()).unwrap();
        write_markdown("semantic", &section);
    }

    if !shapes.is_empty() {
        let section = render_shapes(&shapes, calls);
        println!("{section}");
        write_markdown("shapes", &section);
    }
    if startup.is_empty() && latency.is_empty() && many.is_empty() {
        return;
    }
    let section = render(&startup, &latency, &many, reps, calls);
    println!("{section}");
    let json_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/serve.json");
    std::fs::create_dir_all(json_path.parent().unwrap()).unwrap();
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&json!({
            "startup": startup, "latency": latency, "many_clients": many,
            "shapes": shapes,
        }))
        .unwrap(),
    )
    .unwrap();
    write_markdown("serve", &section);
}
