//! Running the real binary (and other programs) with a clean environment and a time limit.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mem0-mcp");

/// Every command of the binary must finish well within this on a loaded two-core machine.
pub const LIMIT: Duration = Duration::from_secs(60);

/// What to tell someone whose machine lacks a test prerequisite.
pub const DEPS_HINT: &str = "run `.ci/install-test-deps.sh` as root (it installs pgbouncer, gnome-keyring, dbus-daemon and openssl from Debian; PostgreSQL itself comes with the machine)";

/// How a child process ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// `None` when it was killed (by a signal, or because it ran past its time limit).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
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

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{}", self.describe());
        self
    }

    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// stdout and stderr together, for "never appears anywhere" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The stdout parsed as JSON (for `config show --json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.describe()))
    }
}

/// Runs `cmd` to its end, feeding it `stdin` (or /dev/null), killing it after `limit`.
/// Output of grandchildren that keep the pipes open is collected for at most 10 s more.
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
    let stdout = stdout.finish();
    let stderr = stderr.finish();
    Finished {
        code: status.code(),
        stdout,
        stderr,
        elapsed,
        timed_out,
        what,
    }
}

/// A pipe read to its end on its own thread.
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

/// A clean place to run the binary: temporary `HOME`, working directory and data directory;
/// no inherited environment except `PATH`, so no `MEM0_*` of the machine, no `.env`, no
/// `~/.pgpass`, no D-Bus session (so the OS keychain is "unavailable" unless a test starts one).
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
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("m0sbx-")
            .tempdir()
            .expect("temporary sandbox directory");
        for sub in ["home", "cwd", "data", "run"] {
            std::fs::create_dir(dir.path().join(sub)).expect("sandbox subdirectory");
        }
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn cwd(&self) -> PathBuf {
        self.dir.path().join("cwd")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// An empty directory to use as `XDG_RUNTIME_DIR` (no `bus` socket in it).
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// Writes a file inside the sandbox with the given Unix mode; returns its path.
    pub fn write_file(&self, name: &str, contents: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write sandbox file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .expect("chmod sandbox file");
        path
    }

    /// `program args…` with the clean environment plus `env`.
    pub fn command_for(&self, program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("LANG", "C.UTF-8")
            .env("MEM0_DATA_DIR", self.data_dir())
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
    pub fn config_json(&self, extra_args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
        let mut args = vec!["config", "show", "--json"];
        args.extend_from_slice(extra_args);
        let out = self.run(&args, env);
        out.assert_success();
        out.json()
    }
}

/// Asserts one entry of `config show --json`: `{"value": value, "source": source}`.
pub fn assert_setting(json: &serde_json::Value, key: &str, value: serde_json::Value, source: &str) {
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

/// Percent-encodes everything but RFC 3986 unreserved characters (for building URLs).
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// The ways a secret could show up in text: as is, and percent-encoded (upper- and lower-case
/// hex, with `%20` or `+` for a space).
pub fn leak_forms(secret: &str) -> Vec<String> {
    let mut upper = String::new();
    let mut lower = String::new();
    let mut form = String::new();
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            upper.push(byte as char);
            lower.push(byte as char);
            form.push(byte as char);
        } else {
            upper.push_str(&format!("%{byte:02X}"));
            lower.push_str(&format!("%{byte:02x}"));
            if byte == b' ' {
                form.push('+');
            } else {
                form.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let mut forms = vec![secret.to_string(), upper, lower, form];
    forms.sort();
    forms.dedup();
    forms
}

/// Asserts that no form of any of `secrets` appears in `text`.
pub fn assert_no_secret(text: &str, secrets: &[&str], context: &str) {
    for secret in secrets {
        for form in leak_forms(secret) {
            assert!(
                !text.contains(&form),
                "a secret ({} chars, as {form:?}) leaked into the output of {context}",
                secret.len()
            );
        }
    }
}

/// Finds a program in PATH or in the sbin directories root has.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Like [`find_program`], failing the test with the install hint when it is missing.
pub fn require_program(name: &str, package: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| {
        panic!("`{name}` (Debian package {package}) is not installed: {DEPS_HINT}")
    })
}

/// A TCP port nobody listens on right now (the kernel's pick).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0 to find a free port")
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The tests start PostgreSQL as the `postgres` OS user and check peer authentication as the
/// user running them, which must be root.
pub fn require_root() {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .unwrap_or_default();
    assert_eq!(
        uid, "0",
        "these tests must run as root (they start PostgreSQL and PgBouncer as the postgres OS user with runuser); run them as root, as CI does"
    );
}
