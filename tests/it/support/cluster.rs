//! A throw-away PostgreSQL cluster of our own, for what the machine's server cannot show
//! (peer, client-certificate and password authentication, TLS, a wrong password refused):
//! started once by the test binary, on first use, and shared by every test that needs it even
//! when they run on parallel threads (each test makes its own databases in it); and PgBouncer
//! instances in front of it.
//!
//! The cluster runs as the `postgres` OS user on a free TCP port on 127.0.0.1 and a unix
//! socket in its own temporary directory, with `ssl = on` and certificates generated here
//! with `openssl` (a CA, a server certificate for `localhost` / 127.0.0.1, a client certificate
//! for `certuser`). `pg_hba.conf`:
//!
//! ```text
//! local   all root                  peer  (the tests run as OS user root)
//! local   all all                   trust (setup, as postgres)
//! hostssl all certuser  127.0.0.1/32 cert
//! host    all pwuser    127.0.0.1/32 scram-sha-256
//! host    all trustuser 127.0.0.1/32 trust
//! ```
//!
//! A `static` is never dropped, so the cluster is stopped (`pg_ctl stop -m immediate`) and its
//! directory removed by a small reaper process that waits for the test binary to exit, however
//! it exits (end of the tests, panic, Ctrl-C, kill).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::binary::{Finished, run};
use super::system::{
    DEPS_HINT, find_program, free_port, require_program, require_root, wait_for_port,
};

/// The role names; each has its own databases.
pub const PEER_USER: &str = "root";
pub const CERT_USER: &str = "certuser";
pub const PASSWORD_USER: &str = "pwuser";
pub const TRUST_USER: &str = "trustuser";

/// `pwuser`'s password: every character that needs percent-encoding in a URL, and a space.
pub const PASSWORD: &str = "p@ss:w/rd?#%&+ x";

/// The client certificate files and the CA that signed the server's.
#[derive(Debug, Clone)]
pub struct Certs {
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// The same key in an X.509 version 1 certificate (no extensions), signed by the same CA.
    pub client_cert_v1: PathBuf,
    /// A CA that signed nothing the server has.
    pub other_ca: PathBuf,
}

#[derive(Debug)]
pub struct Cluster {
    pub root: PathBuf,
    pub port: u16,
    pub socket_dir: PathBuf,
    pub certs: Certs,
    bin_dir: PathBuf,
    data_dir: PathBuf,
    /// False for the shared cluster, whose reaper stops it.
    stop_on_drop: bool,
}

static SHARED: OnceLock<Cluster> = OnceLock::new();

/// The cluster of this test binary, started on first use.
pub fn shared() -> &'static Cluster {
    SHARED.get_or_init(|| Cluster::start(false))
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.stop_on_drop {
            self.stop();
        }
    }
}

fn check(out: Finished) -> Finished {
    assert_eq!(
        out.code,
        Some(0),
        "setting up the test cluster failed:\n{}",
        out.describe()
    );
    out
}

fn quiet(cmd: Command) -> Finished {
    check(run(cmd, None, Duration::from_secs(120)))
}

/// The newest installed PostgreSQL's server binaries (`/usr/lib/postgresql/<n>/bin`).
fn postgres_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MEM0_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin: install the postgresql package, or set MEM0_TEST_PG_BIN; {DEPS_HINT}"
        )
    })
}

fn chown_postgres(path: &Path) {
    let mut cmd = Command::new("chown");
    cmd.args(["-R", "postgres:postgres"]).arg(path);
    quiet(cmd);
}

fn as_postgres(program: &Path) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(program);
    cmd
}

fn openssl(dir: &Path, args: &[&str]) {
    let mut cmd = Command::new("openssl");
    cmd.args(args).current_dir(dir);
    quiet(cmd);
}

/// Generates the CA, server and client certificates into `dir`.
pub fn make_certs(dir: &Path) {
    let ca = |name: &str, cn: &str| {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "3",
                "-subj",
                &format!("/CN={cn}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
            ],
        )
    };
    ca("ca", "mem0-test-ca");
    ca("other-ca", "mem0-other-ca");
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("server.ext");
    std::fs::write(
        dir.join("client.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    )
    .expect("client.ext");
    for (name, cn) in [("server", "localhost"), ("client", CERT_USER)] {
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                if name == "server" { "1001" } else { "1002" },
                "-days",
                "3",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }
    // Without -extfile, OpenSSL 3.0 signs an X.509 version 1 certificate.
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "1003",
            "-days",
            "3",
            "-out",
            "client-v1.crt",
        ],
    );
}

impl Cluster {
    /// Starts a new cluster. `stop_on_drop`: stop it when this value is dropped (the shared
    /// cluster is a static, stopped by its reaper instead).
    pub fn start(stop_on_drop: bool) -> Cluster {
        require_root();
        let bin_dir = postgres_bin_dir();
        require_program("openssl", "openssl");
        require_program("runuser", "util-linux");
        require_program("setsid", "util-linux");
        let root = tempfile::Builder::new()
            .prefix("m0pg-")
            .tempdir()
            .expect("temporary directory for the test cluster")
            .keep();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711))
                .expect("chmod the cluster directory");
        }
        let port = free_port();
        let pg_dir = root.join("pg");
        let socket_dir = root.join("sock");
        let certs_dir = root.join("certs");
        for dir in [&pg_dir, &socket_dir, &certs_dir] {
            std::fs::create_dir(dir).expect("cluster subdirectory");
        }
        chown_postgres(&pg_dir);
        chown_postgres(&socket_dir);
        let data_dir = pg_dir.join("data");

        // The reaper first, so that even a failure below leaves nothing behind.
        spawn_reaper(&root, &bin_dir, &data_dir);

        make_certs(&certs_dir);
        let mut initdb = as_postgres(&bin_dir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data_dir)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync");
        quiet(initdb);
        for name in ["server.crt", "server.key", "ca.crt"] {
            std::fs::copy(certs_dir.join(name), data_dir.join(name)).expect("copy server cert");
        }
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                data_dir.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .expect("chmod server.key");
        }
        chown_postgres(&data_dir);
        let conf = format!(
            "\n# mem0-mcp connection tests\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'ca.crt'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\nlog_connections = on\n",
            socket_dir.display()
        );
        append(&data_dir.join("postgresql.conf"), &conf);
        std::fs::write(
            data_dir.join("pg_hba.conf"),
            format!(
                "local   all {PEER_USER} peer\nlocal   all all trust\nhostssl all {CERT_USER} 127.0.0.1/32 cert\nhost    all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\nhost    all {TRUST_USER} 127.0.0.1/32 trust\n"
            ),
        )
        .expect("pg_hba.conf");
        chown_postgres(&data_dir);
        let mut start = as_postgres(&bin_dir.join("pg_ctl"));
        start
            .arg("-D")
            .arg(&data_dir)
            .arg("-l")
            .arg(pg_dir.join("server.log"))
            .args(["-w", "-t", "60", "start"]);
        let started = run(start, None, Duration::from_secs(90));
        assert_eq!(
            started.code,
            Some(0),
            "the test cluster did not start:\n{}\n--- server.log ---\n{}",
            started.describe(),
            std::fs::read_to_string(pg_dir.join("server.log")).unwrap_or_default()
        );
        let cluster = Cluster {
            root: root.clone(),
            port,
            socket_dir,
            certs: Certs {
                ca: certs_dir.join("ca.crt"),
                client_cert: certs_dir.join("client.crt"),
                client_key: certs_dir.join("client.key"),
                client_cert_v1: certs_dir.join("client-v1.crt"),
                other_ca: certs_dir.join("other-ca.crt"),
            },
            bin_dir,
            data_dir,
            stop_on_drop,
        };
        cluster.psql(&format!(
            "CREATE ROLE {PEER_USER} LOGIN; CREATE ROLE {CERT_USER} LOGIN; CREATE ROLE {TRUST_USER} LOGIN; SET password_encryption = 'scram-sha-256'; CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{}';",
            PASSWORD.replace('\'', "''")
        ));
        cluster
    }

    /// Runs SQL as the superuser `postgres` over the unix socket; returns psql's stdout.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in("postgres", sql)
    }

    /// [`Cluster::psql`] in database `db`.
    pub fn psql_in(&self, db: &str, sql: &str) -> String {
        let mut cmd = Command::new(self.bin_dir.join("psql"));
        cmd.arg("-h")
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .env_remove("PGPASSWORD");
        let out = run(cmd, None, Duration::from_secs(60));
        assert_eq!(
            out.code,
            Some(0),
            "SQL on the test cluster failed: {sql}\n{}",
            out.describe()
        );
        out.stdout
    }

    /// A new, empty database owned by `owner` (unique per call, so parallel tests never
    /// share one).
    pub fn create_database(&self, owner: &str) -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!("m0_{owner}_{}", COUNTER.fetch_add(1, Ordering::Relaxed) + 1);
        self.psql(&format!("CREATE DATABASE \"{name}\" OWNER \"{owner}\""));
        name
    }

    /// The server's log so far (for failure messages).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.root.join("pg").join("server.log")).unwrap_or_default()
    }

    /// How each connection to `db` so far authenticated, from the server log: `peer`, `cert`,
    /// `scram-sha-256` or `trust` (no identity logged), with ` ssl` appended for TLS.
    pub fn auth_methods(&self, db: &str) -> Vec<String> {
        let log = self.server_log();
        let mut pending: std::collections::HashMap<String, String> = Default::default();
        let mut methods = Vec::new();
        for line in log.lines() {
            let Some(pid) = line
                .split_once('[')
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(pid, _)| pid.to_string())
            else {
                continue;
            };
            if let Some((_, rest)) = line.split_once("connection authenticated: ") {
                let method = rest
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("method="))
                    .unwrap_or("?")
                    .to_string();
                pending.insert(pid, method);
            } else if let Some((_, rest)) = line.split_once("connection authorized: ") {
                let method = pending.remove(&pid).unwrap_or_else(|| "trust".into());
                if rest
                    .split_whitespace()
                    .any(|w| w == format!("database={db}"))
                {
                    let ssl = if rest.contains("SSL enabled") {
                        " ssl"
                    } else {
                        ""
                    };
                    methods.push(format!("{method}{ssl}"));
                }
            }
        }
        methods
    }

    /// Asserts that `db` was reached at least once and only ever with `method`.
    pub fn assert_authenticated_by(&self, db: &str, method: &str) {
        let methods = self.auth_methods(db);
        assert!(
            !methods.is_empty() && methods.iter().all(|m| m == method),
            "connections to {db} should all have authenticated by `{method}`, the server log says {methods:?}"
        );
    }

    pub fn stop(&self) {
        let mut stop = as_postgres(&self.bin_dir.join("pg_ctl"));
        stop.arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "immediate", "-w", "-t", "30", "stop"]);
        let _ = run(stop, None, Duration::from_secs(60));
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    file.write_all(text.as_bytes()).expect("append");
}

/// A detached process (its own session, so Ctrl-C on the test run does not reach it) that
/// waits for this test binary to exit, then kills any PgBouncer started here, stops the
/// cluster and removes its directory (a cluster stopped on drop is already gone by then).
fn spawn_reaper(root: &Path, bin_dir: &Path, data_dir: &Path) {
    let script = format!(
        r#"while kill -0 {pid} 2>/dev/null; do sleep 0.5; done
for f in "{root}"/pgbouncer-*/pgbouncer.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
if [ -d "{data}" ]; then runuser -u postgres -- "{bin}/pg_ctl" -D "{data}" -m immediate -w -t 30 stop; fi
rm -rf "{root}""#,
        pid = std::process::id(),
        root = root.display(),
        data = data_dir.display(),
        bin = bin_dir.display(),
    );
    // `setsid --fork` returns at once, leaving the reaper to init.
    let started = Command::new("setsid")
        .args(["--fork", "bash", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("start the cluster reaper");
    assert!(
        started.success(),
        "setsid could not start the cluster reaper"
    );
}

/// How PgBouncer pools server connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    Session,
    Transaction,
}

/// A PgBouncer (Debian's, run as the postgres OS user) in front of a [`Cluster`], on its own
/// free port, `auth_type = trust` for [`TRUST_USER`]. Killed on drop.
#[derive(Debug)]
pub struct Bouncer {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Bouncer {
    /// `extra`: more `[pgbouncer]` settings, one per line.
    pub fn start(cluster: &Cluster, mode: PoolMode, extra: &str) -> Bouncer {
        let program = find_program("pgbouncer").unwrap_or_else(|| {
            panic!("`pgbouncer` (Debian package pgbouncer) is not installed: {DEPS_HINT}")
        });
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = cluster.root.join(format!(
            "pgbouncer-{}",
            COUNTER.fetch_add(1, Ordering::Relaxed) + 1
        ));
        std::fs::create_dir(&dir).expect("pgbouncer directory");
        let port = free_port();
        std::fs::write(dir.join("users.txt"), format!("\"{TRUST_USER}\" \"\"\n"))
            .expect("pgbouncer auth file");
        let mode_name = match mode {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        };
        let ini = format!(
            "[databases]\n* = host=127.0.0.1 port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\npool_mode = {mode_name}\nlogfile = {}\npidfile = {}\n{extra}\n",
            cluster.port,
            dir.join("users.txt").display(),
            dir.join("pgbouncer.log").display(),
            dir.join("pgbouncer.pid").display(),
        );
        std::fs::write(dir.join("pgbouncer.ini"), &ini).expect("pgbouncer.ini");
        chown_postgres(&dir);
        let mut child = Command::new(program)
            .args(["-q", "-u", "postgres"])
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        if !wait_for_port(port, Duration::from_secs(20)) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "pgbouncer did not listen on port {port} within 20 s\n--- pgbouncer.ini ---\n{ini}\n--- pgbouncer.log ---\n{}",
                std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
            );
        }
        Bouncer { port, child, dir }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
