//! What the tests need from the machine besides the binary: programs from Debian packages
//! (found, or the test fails naming the package), free TCP ports, and root.
//!
//! Missing prerequisites make the tests FAIL with a message naming
//! `.ci/install-test-deps.sh`; nothing is skipped.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What to tell someone whose machine lacks a test prerequisite.
pub const DEPS_HINT: &str = "run `.ci/install-test-deps.sh` as root (it installs pgbouncer, gnome-keyring, dbus-daemon, openssl and haproxy from Debian; PostgreSQL itself comes with the machine)";

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

/// A TCP port nobody listens on right now (the kernel's pick), and never handed out before in
/// this run: the tests run in parallel threads, and one test's "nothing listens here" port
/// must not become another test's PgBouncer.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind 127.0.0.1:0 to find a free port");
        if HANDED_OUT.lock().expect("ports handed out").insert(port) {
            return port;
        }
    }
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

/// The tests that start PostgreSQL run it as the `postgres` OS user and check peer
/// authentication as the user running them, which must be root.
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
