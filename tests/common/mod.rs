//! The integration-test harness: launches the REAL `mem0-mcp` binary over stdio, as an MCP
//! client does, and talks to it with the rmcp client.
//!
//! PostgreSQL tests use the real PostgreSQL server on this machine (admin URL from
//! `MEM0_TEST_ADMIN_URL`, default `postgresql://postgres@127.0.0.1:5432/postgres`) with a
//! throw-away database `m0t_<random hex>` per test, migrated with `mem0-mcp migrate` and dropped
//! when the test ends. They FAIL, never skip, when PostgreSQL is unreachable.
//!
//! SQLite tests use a temporary `MEM0_DATA_DIR` per test. Every child process gets a clean
//! environment (no inherited `MEM0_*` / `PROJECT_*`), a temporary `HOME` and a temporary working
//! directory, so nothing on the machine running the tests leaks in or gets written to.

#![allow(dead_code)]

#[path = "../shared/pg_admin.rs"]
mod pg_admin;
#[allow(unused_imports)]
pub use pg_admin::{DEFAULT_ADMIN_URL, admin_url, database_url};

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, Tool};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use sqlx::Connection;
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mem0-mcp");

/// Generous: the suite runs on a loaded two-core machine.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The name `memory_status` reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

async fn admin_connection(admin: &str) -> sqlx::PgConnection {
    match tokio::time::timeout(CALL_TIMEOUT, sqlx::PgConnection::connect(admin)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "PostgreSQL is unreachable at MEM0_TEST_ADMIN_URL (default {DEFAULT_ADMIN_URL}): {e}. \
             These tests need the real server: start it (e.g. `pg_ctlcluster 15 main start`)."
        ),
        Err(_) => panic!("connecting to PostgreSQL at the admin URL took over 60 s"),
    }
}

/// Runs one SQL statement on the admin database and returns the rows affected.
pub async fn admin_execute(sql: String) -> u64 {
    let mut conn = admin_connection(&admin_url()).await;
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("admin SQL failed: {sql}: {e}"));
    let _ = conn.close().await;
    done.rows_affected()
}

/// Runs one query on the admin database returning a single i64.
pub async fn admin_scalar(sql: String) -> i64 {
    let mut conn = admin_connection(&admin_url()).await;
    let value: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("admin SQL failed: {sql}: {e}"));
    let _ = conn.close().await;
    value
}

/// A throw-away PostgreSQL database, dropped (even if the test panics) on `Drop`.
#[derive(Debug)]
pub struct PgDatabase {
    pub name: String,
    pub url: String,
    admin: String,
}

impl PgDatabase {
    async fn create() -> Self {
        let admin = admin_url();
        let hex = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("m0t_{}", &hex[..16]);
        let mut conn = admin_connection(&admin).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        let _ = conn.close().await;
        let url = database_url(&admin, &name);
        PgDatabase { name, url, admin }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop runs inside (or after) the test's runtime; a fresh runtime on its own thread
        // can block safely either way.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for dropping the test database");
            runtime.block_on(async move {
                let mut conn = sqlx::PgConnection::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}

/// The database one test uses, on either backend, plus its `MEM0_DATA_DIR` (where SQLite keeps
/// its file and both backends write backups).
#[derive(Debug)]
pub struct TestDb {
    pub backend: Backend,
    data_dir: TempDir,
    pg: Option<PgDatabase>,
    /// One token per user, created on first use (PostgreSQL requires one).
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl TestDb {
    /// A fresh, migrated database.
    pub async fn new(backend: Backend) -> Self {
        let db = Self::unmigrated(backend).await;
        if backend == Backend::Postgres {
            let out = db.run(&["migrate"], &[]).await;
            assert_eq!(
                out.code,
                Some(0),
                "mem0-mcp migrate failed:\nstdout: {}\nstderr: {}",
                out.stdout,
                out.stderr
            );
        }
        db
    }

    /// A fresh database without the schema (SQLite: an empty data dir; it migrates itself).
    pub async fn unmigrated(backend: Backend) -> Self {
        let data_dir = tempfile::Builder::new()
            .prefix("m0t-data-")
            .tempdir()
            .expect("temp data dir");
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create().await),
        };
        TestDb {
            backend,
            data_dir,
            pg,
            tokens: Default::default(),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir.path().join("backups")
    }

    /// The PostgreSQL database (panics on SQLite).
    pub fn pg(&self) -> &PgDatabase {
        self.pg.as_ref().expect("a PostgreSQL test database")
    }

    /// The backup files written so far, sorted.
    pub fn backup_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(self.backup_dir()) {
            Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        files
    }

    /// A command for the binary with a clean environment: no inherited `MEM0_*`/`PROJECT_*`,
    /// this database, the given HOME and working directory. Logs go wherever the caller says.
    pub fn command(&self, dirs: &ProcessDirs) -> std::process::Command {
        let mut cmd = std::process::Command::new(BIN);
        clean_env(&mut cmd);
        cmd.env("HOME", dirs.home())
            .current_dir(dirs.cwd())
            .env("MEM0_DATA_DIR", self.data_dir())
            .env("MEM0_LOG", "info");
        if let Some(pg) = &self.pg {
            cmd.env("MEM0_DATABASE_URL", &pg.url);
        }
        cmd
    }

    /// Runs the binary to completion (stdin closed) and captures its output.
    pub async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        let dirs = ProcessDirs::new();
        let mut cmd = self.command(&dirs);
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run_to_end(cmd).await
    }

    /// The token `user` authenticates with: on PostgreSQL a `read,write` token made with
    /// `mem0-mcp token create` on first use; none on the embedded database, where it is optional.
    pub fn token_for(&self, user: &str) -> Option<String> {
        self.pg.as_ref()?;
        let mut tokens = self.tokens.lock().expect("token cache");
        if let Some(token) = tokens.get(user) {
            return Some(token.clone());
        }
        let dirs = ProcessDirs::new();
        let output = self
            .command(&dirs)
            .args(["token", "create", "--user-id", user])
            .stdin(Stdio::null())
            .output()
            .expect("run mem0-mcp token create");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let token = stdout
            .lines()
            .find_map(|l| l.strip_prefix("Token:"))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| {
                panic!(
                    "token create printed no token:\n{stdout}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            });
        tokens.insert(user.to_string(), token.clone());
        Some(token)
    }

    /// A server for this database: user `alice`, manual project `proj-main` unless changed.
    pub fn server(&self) -> ServerBuilder<'_> {
        ServerBuilder {
            db: self,
            user: "alice".into(),
            mode: Mode::Manual("proj-main".into()),
            env: Vec::new(),
        }
    }
}

/// Removes every inherited setting the server reads, and the XDG overrides of HOME.
pub fn clean_env(cmd: &mut std::process::Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("MEM0_") || key.starts_with("PROJECT_") || key.starts_with("XDG_") {
            cmd.env_remove(&key);
        }
    }
}

/// A temporary HOME and working directory for one child process.
#[derive(Debug)]
pub struct ProcessDirs {
    home: TempDir,
    cwd: TempDir,
    logs: TempDir,
}

impl ProcessDirs {
    pub fn new() -> Self {
        let dir = |prefix: &str| {
            tempfile::Builder::new()
                .prefix(prefix)
                .tempdir()
                .expect("temp dir")
        };
        ProcessDirs {
            home: dir("m0t-home-"),
            cwd: dir("m0t-cwd-"),
            logs: dir("m0t-logs-"),
        }
    }
    pub fn home(&self) -> &Path {
        self.home.path()
    }
    pub fn cwd(&self) -> &Path {
        self.cwd.path()
    }
    /// Where a child's stderr is written (a file, so a chatty log can never block the child).
    pub fn stderr_path(&self) -> PathBuf {
        self.logs.path().join("stderr.log")
    }
}

impl Default for ProcessDirs {
    fn default() -> Self {
        Self::new()
    }
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command with stdin closed, bounded by [`CALL_TIMEOUT`].
pub async fn run_to_end(cmd: std::process::Command) -> Finished {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().expect("spawn mem0-mcp");
    let output = tokio::time::timeout(CALL_TIMEOUT, child.wait_with_output())
        .await
        .expect("mem0-mcp did not finish within 60 s")
        .expect("wait for mem0-mcp");
    Finished {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// How the server picks its project.
#[derive(Debug, Clone)]
pub enum Mode {
    Manual(String),
    Global,
    /// `auto` with `PROJECT_DIR` set to this directory.
    AutoDir(PathBuf),
    /// `auto` without `PROJECT_DIR`, started in this working directory.
    AutoCwd(PathBuf),
}

#[derive(Debug)]
pub struct ServerBuilder<'a> {
    db: &'a TestDb,
    user: String,
    mode: Mode,
    env: Vec<(String, String)>,
}

impl ServerBuilder<'_> {
    pub fn user(mut self, user: &str) -> Self {
        self.user = user.into();
        self
    }
    pub fn manual(mut self, project: &str) -> Self {
        self.mode = Mode::Manual(project.into());
        self
    }
    pub fn global(mut self) -> Self {
        self.mode = Mode::Global;
        self
    }
    pub fn auto_dir(mut self, dir: &Path) -> Self {
        self.mode = Mode::AutoDir(dir.to_path_buf());
        self
    }
    pub fn auto_cwd(mut self, dir: &Path) -> Self {
        self.mode = Mode::AutoCwd(dir.to_path_buf());
        self
    }
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Spawns the binary and completes the MCP handshake.
    pub async fn start(self) -> Server {
        let dirs = ProcessDirs::new();
        let mut cmd = self.db.command(&dirs);
        cmd.env("MEM0_USER_ID", &self.user);
        if let Some(token) = self.db.token_for(&self.user) {
            cmd.env("MEM0_TOKEN", token);
        }
        match &self.mode {
            Mode::Manual(project) => {
                cmd.env("PROJECT_ID_MODE", "manual")
                    .env("PROJECT_ID", project);
            }
            Mode::Global => {
                cmd.env("PROJECT_ID_MODE", "global");
            }
            Mode::AutoDir(dir) => {
                cmd.env("PROJECT_ID_MODE", "auto").env("PROJECT_DIR", dir);
            }
            Mode::AutoCwd(dir) => {
                cmd.env("PROJECT_ID_MODE", "auto").current_dir(dir);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let stderr_path = dirs.stderr_path();
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log file");
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(stderr)
            .spawn()
            .expect("spawn mem0-mcp");
        let pid = transport.id();
        let client = match tokio::time::timeout(CALL_TIMEOUT, ().serve(transport)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "MCP handshake with mem0-mcp failed: {e}\nserver stderr:\n{}",
                read_tail(&stderr_path)
            ),
            Err(_) => panic!(
                "mem0-mcp did not answer initialize within 60 s\nserver stderr:\n{}",
                read_tail(&stderr_path)
            ),
        };
        Server {
            client: Some(client),
            pid,
            stderr_path,
            tools: OnceLock::new(),
            _dirs: dirs,
        }
    }
}

fn read_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines[start..].join("\n")
}

/// A running server and the client connected to it.
#[derive(Debug)]
pub struct Server {
    client: Option<RunningService<RoleClient, ()>>,
    pub pid: Option<u32>,
    stderr_path: PathBuf,
    tools: OnceLock<Vec<Tool>>,
    _dirs: ProcessDirs,
}

impl Server {
    pub fn client(&self) -> &RunningService<RoleClient, ()> {
        self.client.as_ref().expect("server already stopped")
    }

    /// The last lines the server logged (for failure messages).
    pub fn stderr_tail(&self) -> String {
        read_tail(&self.stderr_path)
    }

    pub async fn list_tools(&self) -> Vec<Tool> {
        tokio::time::timeout(CALL_TIMEOUT, self.client().list_all_tools())
            .await
            .expect("tools/list did not answer within 60 s")
            .unwrap_or_else(|e| panic!("tools/list failed: {e}\n{}", self.stderr_tail()))
    }

    async fn tool(&self, name: &str) -> Option<Tool> {
        if self.tools.get().is_none() {
            let tools = self.list_tools().await;
            let _ = self.tools.set(tools);
        }
        self.tools
            .get()
            .and_then(|tools| tools.iter().find(|t| t.name == name).cloned())
    }

    /// Calls a tool: `(structuredContent or null, isError, the text blocks joined)`. `args` is
    /// a JSON object, or null for no arguments. A protocol-level error or no answer within
    /// 60 s fails the test.
    pub async fn call(&self, name: &str, args: Value) -> (Value, bool, String) {
        let mut params = CallToolRequestParams::new(name.to_string());
        match args {
            Value::Object(map) => params = params.with_arguments(map),
            Value::Null => {}
            other => panic!("tool arguments must be an object, not {other}"),
        }
        let result = match tokio::time::timeout(CALL_TIMEOUT, self.client().call_tool(params)).await
        {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => panic!(
                "{name}: protocol-level failure: {e}\nserver stderr:\n{}",
                self.stderr_tail()
            ),
            Err(_) => panic!(
                "{name} did not answer within 60 s\nserver stderr:\n{}",
                self.stderr_tail()
            ),
        };
        let text = result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join("\n");
        (
            result.structured_content.unwrap_or(Value::Null),
            result.is_error.unwrap_or(false),
            text,
        )
    }

    /// Calls a tool that must succeed; returns its structured result, after checking it
    /// against the tool's declared output schema and that a text rendering came along.
    pub async fn ok(&self, name: &str, args: Value) -> Value {
        let (structured, is_error, text) = self.call(name, args.clone()).await;
        assert!(
            !is_error,
            "{name}({args}) failed: {text}\nserver stderr:\n{}",
            self.stderr_tail()
        );
        assert!(
            structured.is_object(),
            "{name}({args}) returned no structuredContent object: {structured}"
        );
        assert!(
            !text.trim().is_empty(),
            "{name}({args}) returned no text rendering"
        );
        if let Some(tool) = self.tool(name).await {
            let schema = Value::Object(
                tool.output_schema
                    .as_deref()
                    .cloned()
                    .unwrap_or_else(|| panic!("tool {name} declares no output schema")),
            );
            let problems = schema_check::validate(&schema, &structured);
            assert!(
                problems.is_empty(),
                "{name} structuredContent does not match its output schema: {problems:#?}\n{structured:#}"
            );
        }
        structured
    }

    /// Calls a tool that must fail as a tool error (`isError: true`); returns the message.
    pub async fn err(&self, name: &str, args: Value) -> String {
        let (structured, is_error, text) = self.call(name, args.clone()).await;
        assert!(
            is_error,
            "{name}({}) should have been a tool error, got: {text}\n{structured:#}",
            abbreviate(&args.to_string())
        );
        assert!(
            !text.trim().is_empty(),
            "{name}: a tool error without a message"
        );
        text
    }

    /// Closes the session (stdin) and waits for the process to end.
    pub async fn shutdown(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(CALL_TIMEOUT, client.cancel()).await;
        }
    }
}

pub fn abbreviate(text: &str) -> String {
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text.to_string()
    }
}

/// A small JSON Schema checker for what schemars emits for our result types: `$ref` into
/// `$defs`/`definitions`, `type` (string or list), `properties`, `required`,
/// `additionalProperties`, `items`, `enum`, `const`, `anyOf`/`oneOf`/`allOf`, `minimum`.
pub mod schema_check {
    use serde_json::Value;

    pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        check(schema, schema, value, "$", &mut problems);
        problems
    }

    fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        root.pointer(pointer)
    }

    fn type_matches(name: &str, value: &Value) -> bool {
        match name {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            _ => true,
        }
    }

    fn check(root: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
        let Some(schema) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                problems.push(format!("{at}: no value allowed here"));
            }
            return;
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match resolve(root, reference) {
                Some(target) => check(root, target, value, at, problems),
                None => problems.push(format!("{at}: unresolvable $ref {reference}")),
            }
        }
        if let Some(kind) = schema.get("type") {
            let ok = match kind {
                Value::String(name) => type_matches(name, value),
                Value::Array(names) => names
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|n| type_matches(n, value)),
                _ => true,
            };
            if !ok {
                problems.push(format!("{at}: {value} is not of type {kind}"));
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            problems.push(format!("{at}: {value} is not one of {options:?}"));
        }
        if let Some(constant) = schema.get("const")
            && constant != value
        {
            problems.push(format!("{at}: {value} is not {constant}"));
        }
        if let (Some(min), Some(n)) = (
            schema.get("minimum").and_then(Value::as_f64),
            value.as_f64(),
        ) && n < min
        {
            problems.push(format!("{at}: {n} is below the minimum {min}"));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let matching = options
                    .iter()
                    .filter(|o| validate_at(root, o, value))
                    .count();
                let ok = if key == "oneOf" {
                    matching == 1
                } else {
                    matching >= 1
                };
                if !ok {
                    problems.push(format!("{at}: {value} matches {matching} of the {key}"));
                }
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                check(root, s, value, at, problems);
            }
        }
        if let Some(object) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(name) {
                        problems.push(format!("{at}: required property '{name}' is missing"));
                    }
                }
            }
            for (name, item) in object {
                let path = format!("{at}.{name}");
                match properties.and_then(|p| p.get(name)) {
                    Some(sub) => check(root, sub, item, &path, problems),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            problems.push(format!("{path}: property not in the schema"))
                        }
                        Some(sub @ Value::Object(_)) => check(root, sub, item, &path, problems),
                        _ => {}
                    },
                }
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                check(root, items, item, &format!("{at}[{i}]"), problems);
            }
        }
    }

    fn validate_at(root: &Value, schema: &Value, value: &Value) -> bool {
        let mut problems = Vec::new();
        check(root, schema, value, "$", &mut problems);
        problems.is_empty()
    }
}

/// A server driven with raw JSON-RPC lines, for what the rmcp client hides: exit codes, signals
/// and exactly what reaches stdout.
#[derive(Debug)]
pub struct RawProcess {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    /// Every stdout line read so far.
    pub lines: Vec<String>,
    stderr_path: PathBuf,
    _dirs: ProcessDirs,
}

impl RawProcess {
    /// Spawns the server with `env` on top of the database's clean environment.
    pub fn spawn(db: &TestDb, env: &[(&str, &str)]) -> Self {
        use tokio::io::AsyncBufReadExt;
        let dirs = ProcessDirs::new();
        let mut cmd = db.command(&dirs);
        let user = env
            .iter()
            .find(|(k, _)| *k == "MEM0_USER_ID")
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| "raw-user".into());
        if let Some(token) = db.token_for(&user) {
            cmd.env("MEM0_USER_ID", &user).env("MEM0_TOKEN", token);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let stderr_path = dirs.stderr_path();
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log file");
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn mem0-mcp");
        let stdin = child.stdin.take();
        let stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        RawProcess {
            child,
            stdin,
            stdout,
            lines: Vec::new(),
            stderr_path,
            _dirs: dirs,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Writes one line (a JSON-RPC message, or anything else) to the server's stdin.
    pub async fn send_line(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line.as_bytes()).await.expect("write stdin");
        stdin.write_all(b"\n").await.expect("write stdin");
        stdin.flush().await.expect("flush stdin");
    }

    pub async fn send(&mut self, message: Value) {
        self.send_line(&message.to_string()).await;
    }

    /// Reads the next stdout line, which must be a JSON-RPC 2.0 message.
    pub async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(CALL_TIMEOUT, self.stdout.next_line())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no stdout line within 60 s\nstderr:\n{}",
                    read_tail(&self.stderr_path)
                )
            })
            .expect("read stdout")
            .unwrap_or_else(|| {
                panic!(
                    "stdout closed early\nstderr:\n{}",
                    read_tail(&self.stderr_path)
                )
            });
        self.lines.push(line.clone());
        parse_jsonrpc_line(&line)
    }

    /// Reads messages until the response with this id (notifications in between are kept in
    /// `lines` too).
    pub async fn response(&mut self, id: i64) -> Value {
        loop {
            let message = self.recv().await;
            if message.get("id") == Some(&Value::from(id)) {
                return message;
            }
        }
    }

    /// Sends `initialize` and `notifications/initialized`; returns the initialize result.
    pub async fn initialize(&mut self) -> Value {
        self.initialize_with(serde_json::json!({})).await
    }

    /// [`RawProcess::initialize`] with these client capabilities (e.g. roots).
    pub async fn initialize_with(&mut self, capabilities: Value) -> Value {
        self.send(serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": capabilities,
                "clientInfo": {"name": "raw-test", "version": "0.0.0"}
            }
        }))
        .await;
        let response = self.response(1).await;
        assert!(
            response["result"]["serverInfo"].is_object(),
            "initialize failed: {response}"
        );
        self.send(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        response
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to exit (panics after `limit`), then reads what is left on
    /// stdout into `lines`, checking that each is a JSON-RPC message.
    pub async fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait for mem0-mcp"),
            Err(_) => panic!(
                "mem0-mcp did not exit within {limit:?}\nstderr:\n{}",
                read_tail(&self.stderr_path)
            ),
        };
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line()).await
        {
            parse_jsonrpc_line(&line);
            self.lines.push(line);
        }
        status
    }
}

/// A stdout line must be one JSON-RPC 2.0 message and nothing else.
pub fn parse_jsonrpc_line(line: &str) -> Value {
    let message: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("stdout carried a line that is not JSON ({e}): {line:?}"));
    assert_eq!(
        message["jsonrpc"], "2.0",
        "stdout carried JSON that is not JSON-RPC 2.0: {line}"
    );
    message
}
