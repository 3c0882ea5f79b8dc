//! Harness of the authentication tests: runs the REAL `mem0-mcp` binary, its CLI subcommands
//! with `std::process::Command` and `serve` under an rmcp client, against a throw-away
//! PostgreSQL database (`m0a_<random>`, created through `MEM0_TEST_ADMIN_URL`, default
//! `postgresql://postgres@127.0.0.1:5432/postgres`, dropped at the end) or a temporary SQLite
//! data directory. PostgreSQL being unreachable fails the test; nothing is skipped.
//!
//! Every child gets no inherited `MEM0_*` / `PROJECT_*` variables, a temporary HOME and working
//! directory. Everything the children print is kept so the leak scan can search it.

#![allow(dead_code)]

#[path = "../shared/pg_admin.rs"]
mod pg_admin;
#[allow(unused_imports)]
pub use pg_admin::{DEFAULT_ADMIN_URL, admin_url, database_url};

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use sqlx::{Connection, Row};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_mem0-mcp");
/// Generous: the suite runs on a loaded two-core machine.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// A JWT secret for the tests (at least 32 bytes).
pub const JWT_SECRET: &str = "test-jwt-secret-7f3a9c1e5b2d8f4a6c0e9b7d";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Debug)]
enum Db {
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
    Sqlite {
        data_dir: PathBuf,
    },
}

/// One child's output as text.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success:\n{self:?}");
        self
    }

    /// Exit `code`, and one last stderr line `mem0-mcp: …` containing `needle`.
    pub fn fails_with(&self, code: i32, needle: &str) -> &Self {
        assert_eq!(self.code, Some(code), "expected exit {code}:\n{self:?}");
        let last = self.stderr.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("mem0-mcp: ") && last.contains(needle),
            "the last stderr line should name {needle:?}:\n{self:?}"
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

#[derive(Debug)]
pub struct TestEnv {
    pub backend: Backend,
    db: Db,
    dir: TempDir,
    /// Everything children printed, except the outputs meant to carry a secret once.
    transcript: Mutex<Vec<String>>,
    logs: Mutex<usize>,
}

async fn admin_connection(admin: &str) -> sqlx::PgConnection {
    match tokio::time::timeout(CALL_TIMEOUT, sqlx::PgConnection::connect(admin)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "PostgreSQL is required for these tests and is unreachable at MEM0_TEST_ADMIN_URL ({e}); start it or point MEM0_TEST_ADMIN_URL at one"
        ),
        Err(_) => panic!("PostgreSQL did not answer within 60 s"),
    }
}

fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

impl TestEnv {
    pub async fn new(backend: Backend) -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "work", "logs", "data"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let db = match backend {
            Backend::Postgres => {
                let admin = admin_url();
                let name = format!("m0a_{}", random_hex());
                let mut conn = admin_connection(&admin).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create the test database");
                let url = database_url(&admin, &name);
                Db::Postgres {
                    admin_url: admin,
                    name,
                    url,
                }
            }
            Backend::Sqlite => Db::Sqlite {
                data_dir: dir.path().join("data"),
            },
        };
        let env = TestEnv {
            backend,
            db,
            dir,
            transcript: Mutex::new(Vec::new()),
            logs: Mutex::new(0),
        };
        env.run(&["migrate"], &[]).ok();
        env
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The variables that point a child at this test's database.
    fn base_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "HOME".into(),
                self.path().join("home").display().to_string(),
            ),
            (
                "XDG_CONFIG_HOME".into(),
                self.path().join("home/.config").display().to_string(),
            ),
            (
                "XDG_DATA_HOME".into(),
                self.path().join("home/.local/share").display().to_string(),
            ),
            ("MEM0_LOG".into(), "warn,mem0_mcp=info".into()),
        ];
        match &self.db {
            Db::Postgres { url, .. } => env.push(("MEM0_DATABASE_URL".into(), url.clone())),
            Db::Sqlite { data_dir } => {
                env.push(("MEM0_DATA_DIR".into(), data_dir.display().to_string()))
            }
        }
        env
    }

    fn configure<C: CommandLike>(&self, command: &mut C, envs: &[(&str, &str)]) {
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().to_string();
            if name.starts_with("MEM0_") || name.starts_with("PROJECT_") {
                command.remove_env(&name);
            }
        }
        for (k, v) in self.base_env() {
            command.set_env(&k, &v);
        }
        for (k, v) in envs {
            command.set_env(k, v);
        }
        command.set_dir(&self.path().join("work"));
    }

    fn record(&self, text: String) {
        self.transcript.lock().unwrap().push(text);
    }

    fn run_inner(&self, args: &[&str], envs: &[(&str, &str)], secret_stdout: bool) -> Run {
        let mut command = std::process::Command::new(BIN);
        command.args(args).stdin(Stdio::null());
        self.configure(&mut command, envs);
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().expect("run mem0-mcp");
        let run = Run {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        };
        if !secret_stdout {
            self.record(run.stdout.clone());
        }
        self.record(run.stderr.clone());
        run
    }

    /// Runs a subcommand to completion with stdin closed.
    pub fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        self.run_inner(args, envs, false)
    }

    /// Like [`TestEnv::run`] for the two outputs that carry a secret by design (`token create`
    /// and `token mint` stdout), which the leak scan leaves out.
    pub fn run_secret(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        self.run_inner(args, envs, true)
    }

    /// `token create --user-id USER` plus `extra`; returns the token.
    pub fn create_token(&self, user: &str, extra: &[&str]) -> String {
        let mut args = vec!["token", "create", "--user-id", user];
        args.extend_from_slice(extra);
        let run = self.run_secret(&args, &[]);
        run.ok();
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix("Token:"))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| panic!("no token in:\n{}", run.stdout))
    }

    /// `token mint` with the parent token; returns the JWT.
    pub fn mint(&self, parent: &str, user: &str, args: &[&str]) -> Run {
        let mut all = vec!["token", "mint"];
        all.extend_from_slice(args);
        self.run_secret(
            &all,
            &[
                ("MEM0_TOKEN", parent),
                ("MEM0_USER_ID", user),
                ("MEM0_JWT_SECRET", JWT_SECRET),
            ],
        )
    }

    /// Starts `serve` under an MCP client; its stderr goes to a log file the leak scan reads.
    pub async fn serve(&self, envs: &[(&str, &str)]) -> Client {
        let log = {
            let mut n = self.logs.lock().unwrap();
            *n += 1;
            self.path().join(format!("logs/serve-{n}.log"))
        };
        let mut command = tokio::process::Command::new(BIN);
        command.arg("serve");
        self.configure(&mut command, envs);
        let (transport, _) = TokioChildProcess::builder(command)
            .stderr(Stdio::from(File::create(&log).unwrap()))
            .spawn()
            .expect("spawn mem0-mcp serve");
        let service = tokio::time::timeout(CALL_TIMEOUT, ().serve(transport))
            .await
            .expect("initialize within 60 s")
            .unwrap_or_else(|e| {
                panic!(
                    "the server did not start ({e}); its stderr:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Client { service, log }
    }

    /// Every stderr written by `serve` children so far.
    pub fn server_logs(&self) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(self.path().join("logs")).unwrap() {
            all.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default());
        }
        all
    }

    pub fn transcript(&self) -> String {
        self.transcript.lock().unwrap().join("\n")
    }

    /// Runs one statement (test setup: expiring a token, duplicating a display id).
    pub async fn execute(&self, sql: &str) {
        match &self.db {
            Db::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            Db::Sqlite { data_dir } => {
                let url = format!("sqlite://{}", data_dir.join("mem0.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }

    /// One text value from a query.
    pub async fn query_text(&self, sql: &str) -> Option<String> {
        match &self.db {
            Db::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_optional(&mut conn)
                    .await
                    .unwrap();
                row.and_then(|r| r.try_get::<Option<String>, _>(0).unwrap())
            }
            Db::Sqlite { data_dir } => {
                let url = format!("sqlite://{}", data_dir.join("mem0.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_optional(&mut conn)
                    .await
                    .unwrap();
                row.and_then(|r| r.try_get::<Option<String>, _>(0).unwrap())
            }
        }
    }

    /// SQL that makes a token expired a day ago.
    pub fn expire_sql(&self, display_id: &str) -> String {
        match self.backend {
            Backend::Postgres => format!(
                "UPDATE mcp_auth_tokens SET expires_at = now() - interval '1 day' WHERE token_prefix = '{display_id}'"
            ),
            Backend::Sqlite => format!(
                "UPDATE mcp_auth_tokens SET expires_at = '2020-01-01T00:00:00.000000Z' WHERE token_prefix = '{display_id}'"
            ),
        }
    }

    /// Every row of every table, as text (PostgreSQL: each row as JSON; SQLite: the database
    /// file and its write-ahead log, byte for byte).
    pub async fn dump(&self) -> String {
        match &self.db {
            Db::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap();
                assert!(tables.iter().any(|t| t == "mcp_auth_tokens"), "{tables:?}");
                let mut all = String::new();
                for table in tables {
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT row_to_json(t)::text FROM \"{table}\" t"
                    )))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                    all.push_str(&format!("-- {table}\n{}\n", rows.join("\n")));
                }
                all
            }
            Db::Sqlite { data_dir } => {
                let mut all = String::new();
                for entry in std::fs::read_dir(data_dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_file() {
                        all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
                    }
                }
                assert!(all.contains("mcp_auth_tokens"));
                all
            }
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if let Db::Postgres {
            admin_url, name, ..
        } = &self.db
        {
            let admin = admin_url.clone();
            let name = name.clone();
            // Drop runs inside the test's runtime: use a runtime of our own on another thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Both kinds of `Command` configured the same way.
trait CommandLike {
    fn remove_env(&mut self, name: &str);
    fn set_env(&mut self, name: &str, value: &str);
    fn set_dir(&mut self, dir: &Path);
}

impl CommandLike for std::process::Command {
    fn remove_env(&mut self, name: &str) {
        self.env_remove(name);
    }
    fn set_env(&mut self, name: &str, value: &str) {
        self.env(name, value);
    }
    fn set_dir(&mut self, dir: &Path) {
        self.current_dir(dir);
    }
}

impl CommandLike for tokio::process::Command {
    fn remove_env(&mut self, name: &str) {
        self.env_remove(name);
    }
    fn set_env(&mut self, name: &str, value: &str) {
        self.env(name, value);
    }
    fn set_dir(&mut self, dir: &Path) {
        self.current_dir(dir);
    }
}

/// A running `serve` and the client talking to it.
pub struct Client {
    pub service: RunningService<RoleClient, ()>,
    pub log: PathBuf,
}

impl Client {
    pub async fn tool_names(&self) -> Vec<String> {
        let tools: Vec<Tool> = tokio::time::timeout(CALL_TIMEOUT, self.service.list_all_tools())
            .await
            .expect("tools/list within 60 s")
            .expect("tools/list");
        tools.iter().map(|t| t.name.to_string()).collect()
    }

    /// Calls a tool; returns the result whether or not it is a tool error.
    pub async fn call(&self, name: &str, args: Value) -> CallToolResult {
        let mut params = CallToolRequestParams::new(name.to_string());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        tokio::time::timeout(CALL_TIMEOUT, self.service.call_tool(params))
            .await
            .expect("tool call within 60 s")
            .unwrap_or_else(|e| panic!("{name} failed at the protocol level: {e}"))
    }

    /// Calls a tool that must succeed; returns its structured content.
    pub async fn ok(&self, name: &str, args: Value) -> Value {
        let result = self.call(name, args).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{name} failed: {}",
            text(&result)
        );
        result.structured_content.clone().unwrap_or(Value::Null)
    }

    /// Calls a tool that must fail; returns its message.
    pub async fn err(&self, name: &str, args: Value) -> String {
        let result = self.call(name, args).await;
        assert_eq!(
            result.is_error,
            Some(true),
            "{name} should have failed: {}",
            text(&result)
        );
        text(&result)
    }

    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }
}

pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The display id of a token.
pub fn display_id(token: &str) -> String {
    token[..12].to_string()
}
