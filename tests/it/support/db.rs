//! [`TestDb`]: the database one test runs the binary against, on either [`Backend`], with the
//! [`Sandbox`] its commands and servers run in.
//!
//! PostgreSQL: a throw-away [`PgDatabase`] on the machine's server, migrated with
//! `mem0-mcp migrate` (or left empty, [`TestDb::unmigrated`]), dropped when the test ends.
//! SQLite: a temporary `MEM0_DATA_DIR` (the server creates and migrates the file itself).
//!
//! Everything the commands print (except the outputs meant to carry a secret once) is kept in
//! a transcript, and every server's stderr in the sandbox's `logs/`, so a test can scan them
//! all for secrets.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use sqlx::{Connection, Row};

use super::binary::{self, Finished, LIMIT, Sandbox};
use super::mcp::{McpClient, RawProcess};
use super::pg::PgDatabase;

/// The two databases the server runs on.
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

/// One test's database, its sandbox, and what its commands printed (see the module docs).
#[derive(Debug)]
pub struct TestDb {
    pub backend: Backend,
    sandbox: Sandbox,
    pg: Option<PgDatabase>,
    /// One token per user for [`TestDb::server`], created on first use (PostgreSQL requires
    /// one).
    tokens: Mutex<HashMap<String, String>>,
    /// What commands printed, except the outputs meant to carry a secret once.
    transcript: Mutex<Vec<String>>,
}

impl TestDb {
    /// A fresh database: PostgreSQL migrated with `mem0-mcp migrate`; SQLite an empty data
    /// directory, which the server migrates itself.
    pub fn new(backend: Backend) -> Self {
        let db = Self::unmigrated(backend);
        if backend == Backend::Postgres {
            db.migrate();
        }
        db
    }

    /// A fresh database that `mem0-mcp migrate` has migrated, on either backend.
    pub fn migrated(backend: Backend) -> Self {
        let db = Self::unmigrated(backend);
        db.migrate();
        db
    }

    /// A fresh database without the schema (SQLite: an empty data dir).
    pub fn unmigrated(backend: Backend) -> Self {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create()),
        };
        let db = TestDb {
            backend,
            sandbox: Sandbox::new(),
            pg,
            tokens: Default::default(),
            transcript: Default::default(),
        };
        std::fs::create_dir_all(db.data_dir()).expect("data directory");
        db
    }

    fn migrate(&self) {
        let out = self.run(&["migrate"], &[]);
        assert_eq!(
            out.code,
            Some(0),
            "mem0-mcp migrate failed:\n{}",
            out.describe()
        );
    }

    /// `MEM0_DATA_DIR`: where SQLite keeps its file and both backends write backups.
    pub fn data_dir(&self) -> PathBuf {
        self.sandbox.path().join("data")
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir().join("backups")
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

    /// The binary in the sandbox, pointed at this database, logging at `info`, plus `env`.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let data_dir = self.data_dir().display().to_string();
        let mut base = vec![("MEM0_DATA_DIR", data_dir.as_str()), ("MEM0_LOG", "info")];
        if let Some(pg) = &self.pg {
            base.push(("MEM0_DATABASE_URL", pg.url.as_str()));
        }
        let mut cmd = self.sandbox.command(args, &base);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd
    }

    fn run_inner(&self, args: &[&str], env: &[(&str, &str)], secret_stdout: bool) -> Finished {
        let out = binary::run(self.command(args, env), None, LIMIT);
        let mut transcript = self.transcript.lock().expect("transcript");
        if !secret_stdout {
            transcript.push(out.stdout.clone());
        }
        transcript.push(out.stderr.clone());
        out
    }

    /// Runs a command to completion with stdin closed.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        self.run_inner(args, env, false)
    }

    /// Like [`TestDb::run`] for the two outputs that carry a secret by design (`token create`
    /// and `token mint` stdout), which the transcript leaves out.
    pub fn run_secret(&self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        self.run_inner(args, env, true)
    }

    /// Everything the commands printed so far (see [`TestDb::run_secret`]).
    pub fn transcript(&self) -> String {
        self.transcript.lock().expect("transcript").join("\n")
    }

    /// The sandbox's HOME (where clients keep their configuration files).
    pub fn home(&self) -> PathBuf {
        self.sandbox.home()
    }

    /// A new file in the sandbox's `logs/` for one server's stderr.
    pub fn log_path(&self, label: &str) -> PathBuf {
        self.sandbox.log_path(label)
    }

    /// Everything servers wrote to stderr so far.
    pub fn server_logs(&self) -> String {
        self.sandbox.server_logs()
    }

    /// `token create --user-id USER` plus `extra`; returns the token.
    pub fn create_token(&self, user: &str, extra: &[&str]) -> String {
        let mut args = vec!["token", "create", "--user-id", user];
        args.extend_from_slice(extra);
        self.run_secret(&args, &[]).created_token()
    }

    /// The token `user` authenticates with in [`TestDb::server`]: on PostgreSQL a `read,write`
    /// token made on first use; none on the embedded database, where it is optional.
    pub fn token_for(&self, user: &str) -> Option<String> {
        self.pg.as_ref()?;
        if let Some(token) = self.tokens.lock().expect("token cache").get(user) {
            return Some(token.clone());
        }
        let token = self.create_token(user, &[]);
        self.tokens
            .lock()
            .expect("token cache")
            .insert(user.to_string(), token.clone());
        Some(token)
    }

    /// A server for this database: user `alice` (with her token), manual project `proj-main`
    /// unless changed.
    pub fn server(&self) -> ServerBuilder<'_> {
        ServerBuilder {
            db: self,
            user: "alice".into(),
            mode: Mode::Manual("proj-main".into()),
            env: Vec::new(),
        }
    }

    /// `mem0-mcp serve` with exactly these variables on top of the database's (no user, token
    /// or project chosen for it).
    pub async fn serve(&self, env: &[(&str, &str)]) -> McpClient {
        let cmd = self.command(&["serve"], env);
        McpClient::start(cmd, self.sandbox.log_path("serve")).await
    }

    /// The server driven with raw JSON-RPC lines, with `env` on top of the database's; the user
    /// (`MEM0_USER_ID` in `env`, else `raw-user`) gets its token as in [`TestDb::server`].
    pub fn raw(&self, env: &[(&str, &str)]) -> RawProcess {
        let user = env
            .iter()
            .find(|(k, _)| *k == "MEM0_USER_ID")
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| "raw-user".into());
        let mut cmd = self.command(&[], &[]);
        if let Some(token) = self.token_for(&user) {
            cmd.env("MEM0_USER_ID", &user).env("MEM0_TOKEN", token);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        RawProcess::spawn(cmd, self.sandbox.log_path("raw"))
    }

    /// The SQLite file's URL.
    fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.data_dir().join("mem0.db").display())
    }

    /// Runs SQL (one or more statements) on the test database directly, as an administrator
    /// or a bulk loader would.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &self.pg {
            Some(pg) => {
                let mut conn = sqlx::PgConnection::connect(&pg.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            None => {
                let mut conn = sqlx::SqliteConnection::connect(&self.sqlite_url())
                    .await
                    .unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }

    /// One text value from a query (`None` for no row or NULL).
    pub async fn query_text(&self, sql: &str) -> Option<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &self.pg {
            Some(pg) => {
                let mut conn = sqlx::PgConnection::connect(&pg.url).await.unwrap();
                let row = sqlx::query(sql).fetch_optional(&mut conn).await.unwrap();
                row.and_then(|r| r.try_get::<Option<String>, _>(0).unwrap())
            }
            None => {
                let mut conn = sqlx::SqliteConnection::connect(&self.sqlite_url())
                    .await
                    .unwrap();
                let row = sqlx::query(sql).fetch_optional(&mut conn).await.unwrap();
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
        match &self.pg {
            Some(pg) => {
                let mut conn = sqlx::PgConnection::connect(&pg.url).await.unwrap();
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
            None => {
                let mut all = String::new();
                for entry in std::fs::read_dir(self.data_dir()).unwrap() {
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

/// A server about to start: its user, project mode and extra variables.
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

    /// Spawns the binary (no subcommand: `serve` is the default) and completes the MCP
    /// handshake.
    pub async fn start(self) -> McpClient {
        let mut cmd = self.db.command(&[], &[]);
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
        McpClient::start(cmd, self.db.sandbox.log_path("server")).await
    }
}
