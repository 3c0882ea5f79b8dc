//! Running the real `mem0-mcp` binary (and the other programs some tests drive) the one way
//! every test does: in a [`Sandbox`] whose environment holds nothing of the machine running
//! the tests, to completion or for at most a time limit, with everything it printed kept in a
//! [`Finished`].

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mem0-mcp");

/// How long one command, handshake or tool call may take before the test fails: generous,
/// because the suite runs on a loaded two-core machine. A ceiling, never a measurement.
pub const LIMIT: Duration = Duration::from_secs(60);

/// How a child process ended, and everything it printed.
#[derive(Debug, Clone)]
pub struct Finished {
    /// `None` when it was killed (by a signal, or because it ran past its time limit).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
    /// The command line with the names (never the values) of the settings it was given.
    pub what: String,
}

impl Finished {
    /// Everything worth seeing when an assertion about this run fails.
    pub fn describe(&self) -> String {
        format!(
            "{} → exit {:?}{} after {:.1}s\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.code,
            if self.timed_out {
                " (KILLED: time limit)"
            } else {
                ""
            },
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }

    /// Exit `code`; otherwise fails the test showing everything the run printed.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{}", self.describe());
        self
    }

    /// Exit 0.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.assert_code(0)
    }

    /// Exit `code`, and a last stderr line `mem0-mcp: …` containing `needle`.
    #[track_caller]
    pub fn fails_with(&self, code: i32, needle: &str) -> &Self {
        self.assert_code(code);
        let last = self.stderr.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("mem0-mcp: ") && last.contains(needle),
            "the last stderr line should name {needle:?}:\n{}",
            self.describe()
        );
        self
    }

    /// stdout and stderr together, for "never appears anywhere" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The stdout parsed as JSON (for the `--json` outputs).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.describe()))
    }

    /// The token a successful `token create` printed on its `Token:` line.
    #[track_caller]
    pub fn created_token(&self) -> String {
        self.ok();
        let token = self
            .stdout
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("Token:"))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| panic!("token create printed no token:\n{}", self.describe()));
        assert!(
            token.starts_with("mcp_") && token.len() == 47,
            "token create printed something that is not an mcp_ token:\n{}",
            self.describe()
        );
        token
    }
}

/// Runs `cmd` to its end, feeding it `stdin` (or /dev/null), killing it after `limit`.
/// Output of grandchildren that keep the pipes open is collected for at most 10 s more.
/// Blocks the calling thread: async tests pay one runtime worker for it, which the two-worker
/// test runtimes have to spare.
pub fn run(mut cmd: Command, stdin: Option<&[u8]>, limit: Duration) -> Finished {
    let what = describe_command(&cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let stdout = collect(child.stdout.take().expect("stdout pipe"));
    let stderr = collect(child.stderr.take().expect("stderr pipe"));
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > limit => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait for the killed child");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for {what} failed: {e}"),
        }
    };
    let elapsed = started.elapsed();
    Finished {
        code: status.code(),
        stdout: stdout.finish(),
        stderr: stderr.finish(),
        elapsed,
        timed_out,
        what,
    }
}

/// A pipe read to its end on its own thread, so a chatty child can never block on a full pipe.
struct Collected {
    text: Arc<Mutex<(Vec<u8>, bool)>>,
}

fn collect(mut pipe: impl Read + Send + 'static) -> Collected {
    let text = Arc::new(Mutex::new((Vec::new(), false)));
    let shared = text.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => shared.lock().unwrap().0.extend_from_slice(&buf[..n]),
            }
        }
        shared.lock().unwrap().1 = true;
    });
    Collected { text }
}

impl Collected {
    fn finish(self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.text.lock().unwrap().1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        String::from_utf8_lossy(&self.text.lock().unwrap().0).into_owned()
    }
}

fn describe_command(cmd: &Command) -> String {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let program = if program == BIN {
        "mem0-mcp".to_string()
    } else {
        program
    };
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Only the names of the variables: their values may be secrets.
    let vars: Vec<String> = cmd
        .get_envs()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .filter(|k| k.starts_with("MEM0_") || k.starts_with("PROJECT_"))
        .collect();
    format!("`{program} {}` [env: {}]", args.join(" "), vars.join(" "))
}

/// A clean place to run the binary, in one temporary directory:
///
/// ```text
/// home/                HOME, with .config, .local/share, .cache (the XDG directories)
/// home/work/project/   the working directory (a project inside the home, like a checkout)
/// run/                 XDG_RUNTIME_DIR: empty, so no D-Bus session and no OS keychain
/// logs/                the stderr of servers, one file each
/// ```
///
/// No inherited environment except `PATH`: nothing of the machine (`MEM0_*`, `.env`,
/// `~/.pgpass`, a D-Bus session, the user's keychain) reaches the binary, and it writes
/// nothing outside the sandbox.
#[derive(Debug)]
pub struct Sandbox {
    dir: TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A new sandbox in a temporary directory, removed when it is dropped.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("m0t-sandbox-")
            .tempdir()
            .expect("temporary sandbox directory");
        let sandbox = Sandbox { dir };
        for sub in [
            "home/.config",
            "home/.local/share",
            "home/.cache",
            "home/work/project",
            "run",
            "logs",
        ] {
            std::fs::create_dir_all(sandbox.path().join(sub)).expect("sandbox directory");
        }
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                sandbox.runtime_dir(),
                std::fs::Permissions::from_mode(0o700),
            )
            .expect("chmod XDG_RUNTIME_DIR");
        }
        sandbox
    }

    /// The sandbox's root (files a test writes for itself go here, outside HOME).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `HOME`.
    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// `XDG_CONFIG_HOME`.
    pub fn config_dir(&self) -> PathBuf {
        self.home().join(".config")
    }

    /// The working directory of every command.
    pub fn cwd(&self) -> PathBuf {
        self.home().join("work/project")
    }

    /// `XDG_RUNTIME_DIR`: empty (no `bus` socket in it).
    pub fn runtime_dir(&self) -> PathBuf {
        self.path().join("run")
    }

    /// A new, unique file name in `logs/` for one server's stderr.
    pub fn log_path(&self, label: &str) -> PathBuf {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
        self.path().join("logs").join(format!("{label}-{n}.log"))
    }

    /// Everything servers started in this sandbox wrote to stderr so far.
    pub fn server_logs(&self) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(self.path().join("logs")).expect("logs directory") {
            all.push_str(
                &std::fs::read_to_string(entry.expect("log entry").path()).unwrap_or_default(),
            );
        }
        all
    }

    /// Writes a file inside the sandbox with the given Unix mode; returns its path.
    pub fn write_file(&self, name: &str, contents: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("write sandbox file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .expect("chmod sandbox file");
        path
    }

    /// The whole environment of every process started here (before the test's own variables).
    pub fn base_env(&self) -> Vec<(String, String)> {
        let home = self.home();
        let at = |path: PathBuf| path.display().to_string();
        let mut env = vec![
            ("HOME".to_string(), at(home.clone())),
            ("XDG_CONFIG_HOME".to_string(), at(home.join(".config"))),
            ("XDG_DATA_HOME".to_string(), at(home.join(".local/share"))),
            ("XDG_CACHE_HOME".to_string(), at(home.join(".cache"))),
            ("XDG_RUNTIME_DIR".to_string(), at(self.runtime_dir())),
            ("USER".to_string(), "tester".to_string()),
            ("LANG".to_string(), "C.UTF-8".to_string()),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            env.push(("PATH".to_string(), path.to_string_lossy().into_owned()));
        }
        env
    }

    /// `program args…` with the clean environment plus `env`, in [`Sandbox::cwd`].
    pub fn command_for(&self, program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(self.base_env())
            .current_dir(self.cwd());
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd
    }

    /// `mem0-mcp args…` with the clean environment plus `env`.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        self.command_for(BIN, args, env)
    }

    /// Runs `mem0-mcp args…` with stdin from /dev/null.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        run(self.command(args, env), None, LIMIT)
    }

    /// Runs `mem0-mcp args…` with `stdin` piped in.
    pub fn run_with_stdin(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Finished {
        run(self.command(args, env), Some(stdin.as_bytes()), LIMIT)
    }

    /// `mem0-mcp config show --json` (plus `extra_args`), which must succeed.
    pub fn config_json(&self, extra_args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut args = vec!["config", "show", "--json"];
        args.extend_from_slice(extra_args);
        let out = self.run(&args, env);
        out.ok();
        out.json()
    }
}

/// Asserts one entry of `config show --json`: `{"value": value, "source": source}`.
#[track_caller]
pub fn assert_setting(json: &Value, key: &str, value: Value, source: &str) {
    let entry = json
        .get(key)
        .unwrap_or_else(|| panic!("config show --json has no {key}:\n{json:#}"));
    assert_eq!(
        entry.get("value"),
        Some(&value),
        "{key}'s value in config show --json:\n{entry:#}"
    );
    assert_eq!(
        entry.get("source").and_then(|s| s.as_str()),
        Some(source),
        "{key}'s source in config show --json:\n{entry:#}"
    );
}
