//! Support for the setup tests: a throw-away home directory (HOME and every XDG directory in a
//! temporary directory, no D-Bus so no keychain), the real binary run inside it, a throw-away
//! PostgreSQL database, and an MCP client that starts a server exactly as a client
//! configuration file says.
//!
//! PostgreSQL: the admin URL is `MEM0_TEST_ADMIN_URL` (default
//! `postgresql://postgres@127.0.0.1:5432/postgres`); each test creates `m0s_<random hex>` and
//! drops it (`WITH (FORCE)`) when done. The tests FAIL, never skip, when PostgreSQL is
//! unreachable.

#![allow(dead_code)]

#[path = "../shared/pg_admin.rs"]
mod pg_admin;
use pg_admin::database_url as with_database;
#[allow(unused_imports)]
pub use pg_admin::{DEFAULT_ADMIN_URL, admin_url, database_url};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use sqlx::Connection;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_mem0-mcp");
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A home directory of its own, and a project directory inside it to run commands from.
#[derive(Debug)]
pub struct Home {
    dir: TempDir,
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

impl Home {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("m0s-home-")
            .tempdir()
            .expect("temp home");
        let home = Home { dir };
        for sub in [".config", ".local/share", ".cache", "run", "work/project"] {
            std::fs::create_dir_all(home.path().join(sub)).expect("home layout");
        }
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.path().join(".config")
    }

    /// mem0-mcp's own config directory.
    pub fn mem0_dir(&self) -> PathBuf {
        self.config_dir().join("mem0")
    }

    pub fn project(&self) -> PathBuf {
        self.path().join("work/project")
    }

    pub fn claude_desktop_config(&self) -> PathBuf {
        self.config_dir()
            .join("Claude")
            .join("claude_desktop_config.json")
    }

    pub fn vscode_config(&self) -> PathBuf {
        self.config_dir().join("Code/User/mcp.json")
    }

    /// The variables every process here gets: this home, its XDG directories, no session bus
    /// (so no keychain), and the caller's PATH.
    pub fn base_env(&self) -> Vec<(String, String)> {
        let p = |sub: &str| self.path().join(sub).display().to_string();
        let mut env = vec![
            ("HOME".to_string(), p("")),
            ("XDG_CONFIG_HOME".to_string(), p(".config")),
            ("XDG_DATA_HOME".to_string(), p(".local/share")),
            ("XDG_CACHE_HOME".to_string(), p(".cache")),
            ("XDG_RUNTIME_DIR".to_string(), p("run")),
            ("USER".to_string(), "tester".to_string()),
        ];
        if let Ok(path) = std::env::var("PATH") {
            env.push(("PATH".to_string(), path));
        }
        env
    }

    /// The binary with only [`Home::base_env`] and `env`, run from the project directory.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .envs(self.base_env())
            .envs(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .current_dir(self.project())
            .args(args);
        cmd
    }

    /// Runs the binary to completion with `stdin` as its input.
    pub fn run_with_input(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
        let mut cmd = self.command(args, env);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn mem0-mcp");
        {
            use std::io::Write;
            let mut input = child.stdin.take().expect("stdin");
            input.write_all(stdin.as_bytes()).expect("write stdin");
        }
        let output = wait_with_timeout(child);
        Output {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_with_input(args, env, "")
    }
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

fn wait_with_timeout(child: std::process::Child) -> std::process::Output {
    let (done, wait) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match wait.recv_timeout(TIMEOUT) {
        Ok(output) => output.expect("wait for mem0-mcp"),
        Err(_) => panic!("mem0-mcp (pid {pid}) did not finish within 60 s"),
    }
}

/// Runs one statement on the admin database, on a runtime of its own (callable from sync and
/// async tests alike).
pub fn admin_execute(sql: String) {
    let admin = admin_url();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let mut conn = match tokio::time::timeout(TIMEOUT, sqlx::PgConnection::connect(&admin)).await {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => panic!(
                    "PostgreSQL is unreachable at MEM0_TEST_ADMIN_URL (default {DEFAULT_ADMIN_URL}): {e}. \
                     These tests need the real server: start it (e.g. `pg_ctlcluster 15 main start`)."
                ),
                Err(_) => panic!("connecting to PostgreSQL took over 60 s"),
            };
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("admin SQL failed: {sql}: {e}"));
            let _ = conn.close().await;
        });
    })
    .join()
    .expect("admin SQL thread");
}

/// A throw-away database, dropped when the test ends (also when it panics).
#[derive(Debug)]
pub struct PgDb {
    pub name: String,
    /// Connects as the admin URL's user, without a password.
    pub url: String,
}

impl PgDb {
    pub fn create() -> Self {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("m0s_{}", &hex[..16]);
        admin_execute(format!("CREATE DATABASE \"{name}\""));
        let url = with_database(&admin_url(), &name);
        PgDb { name, url }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            admin_execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        })
        .join();
        if dropped.is_err() {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

/// The server entry `name` in a client configuration file.
pub fn entry(config: &Path, servers_key: &str, name: &str) -> Value {
    let text = std::fs::read_to_string(config)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", config.display()));
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", config.display()));
    value[servers_key][name].clone()
}

/// A server started the way a client does it: the entry's command and arguments, only the
/// variables the entry sets on top of a plain login environment, in `cwd`.
pub struct Launched {
    client: Option<RunningService<RoleClient, ()>>,
    stderr: PathBuf,
    _logs: TempDir,
}

impl std::fmt::Debug for Launched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launched").finish_non_exhaustive()
    }
}

impl Launched {
    pub async fn start(home: &Home, entry: &Value, cwd: &Path, overrides: &[(&str, &str)]) -> Self {
        let command = entry["command"]
            .as_str()
            .unwrap_or_else(|| panic!("the entry has no command: {entry}"));
        let mut cmd = tokio::process::Command::new(command);
        cmd.env_clear().envs(home.base_env()).current_dir(cwd);
        if let Some(args) = entry.get("args").and_then(Value::as_array) {
            cmd.args(args.iter().filter_map(Value::as_str));
        }
        if let Some(env) = entry.get("env").and_then(Value::as_object) {
            for (name, value) in env {
                cmd.env(name, value.as_str().expect("env values are strings"));
            }
        }
        for (name, value) in overrides {
            cmd.env(name, value);
        }
        cmd.kill_on_drop(true);
        let logs = tempfile::tempdir().expect("log dir");
        let stderr = logs.path().join("stderr.log");
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("spawn the configured command");
        let client = match tokio::time::timeout(TIMEOUT, ().serve(transport)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "the configured server did not start: {e}\nstderr:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            ),
            Err(_) => panic!("the configured server did not answer initialize within 60 s"),
        };
        Launched {
            client: Some(client),
            stderr,
            _logs: logs,
        }
    }

    /// Calls a tool that must succeed and returns its structured result.
    pub async fn call(&self, name: &str, args: Value) -> Value {
        let mut params = CallToolRequestParams::new(name.to_string());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        let client = self.client.as_ref().expect("running");
        let result = tokio::time::timeout(TIMEOUT, client.call_tool(params))
            .await
            .unwrap_or_else(|_| panic!("{name} did not answer within 60 s"))
            .unwrap_or_else(|e| {
                panic!(
                    "{name} failed: {e}\nstderr:\n{}",
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                )
            });
        assert!(
            !result.is_error.unwrap_or(false),
            "{name} returned a tool error: {:?}",
            result.content
        );
        result.structured_content.unwrap_or(Value::Null)
    }

    pub async fn stop(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.cancel().await;
        }
    }
}
