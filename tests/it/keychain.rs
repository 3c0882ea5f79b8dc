//! The OS keychain, against a REAL Secret Service: each test starts its own private D-Bus
//! session (`dbus-run-session`) with `HOME` and the XDG directories in a temporary directory,
//! and GNOME Keyring's daemon in it (`gnome-keyring-daemon --unlock --components=secrets`,
//! unlocked with a non-empty password, or left to D-Bus activation to stay locked). Nothing
//! touches the keychain of the machine or of the user running the tests.
//!
//! The steps run inside the session as one shell script (every command under `timeout`, the
//! whole session too); each step leaves `NAME.out`, `NAME.err`, `NAME.rc` and `NAME.ms` in a
//! directory the test then reads. Secret values reach the binary only on stdin or through the
//! environment, never argv, and never appear in any output.
//!
//! Also checked: with no D-Bus at all, or a dead bus address, `config show` stays fast and
//! `secret set` fails with the install hint.
//!
//! Needs `dbus-run-session` (dbus) and `gnome-keyring-daemon` (gnome-keyring):
//! `.ci/install-test-deps.sh` installs them; missing, the tests fail (never skip).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::binary::{self, assert_setting};
use crate::support::cluster::{self, PASSWORD, PASSWORD_USER};
use crate::support::secrets::assert_no_secret;
use crate::support::system::require_program;
use crate::support::{BIN, Finished, Sandbox};

const JWT_IN_KEYCHAIN: &str = "kc-jwt-3c1f9e7a5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a";
const JWT_IN_ENV: &str = "env-jwt-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b";
const JWT_IN_FILE: &str = "file-jwt-0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
const TOKEN_IN_KEYCHAIN: &str = "mcp_KeychainTokenNeverPrinted_0123456789abcdefgh";
const UNLOCK_PASSWORD: &str = "keyring-unlock-pw";

/// A step's results, read back from the files the script wrote.
#[derive(Debug, Clone)]
struct Step {
    name: String,
    code: i32,
    stdout: String,
    stderr: String,
    millis: u64,
}

impl Step {
    fn describe(&self) -> String {
        format!(
            "step {} → exit {} after {} ms\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.name, self.code, self.millis, self.stdout, self.stderr
        )
    }

    fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "{}", self.describe());
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.describe()))
    }
}

fn read_steps(dir: &Path) -> HashMap<String, Step> {
    let mut steps = HashMap::new();
    for entry in std::fs::read_dir(dir)
        .expect("read the steps directory")
        .flatten()
    {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("rc") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}")));
        let step = Step {
            code: read("rc")
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(-1),
            stdout: read("out").unwrap_or_default(),
            stderr: read("err").unwrap_or_default(),
            millis: read("ms")
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0),
            name: name.clone(),
        };
        steps.insert(name, step);
    }
    steps
}

/// Shell functions every script starts with: `step NAME STDIN_FILE CMD…` runs one command with
/// a time limit and records its output, exit code and duration.
const PRELUDE: &str = r#"set -u
step() {
  local name=$1 input=$2; shift 2
  local started; started=$(date +%s%N)
  timeout -k 5 60 "$@" <"$input" >"$OUT/$name.out" 2>"$OUT/$name.err"
  echo $? >"$OUT/$name.rc"
  echo $(( ($(date +%s%N) - started) / 1000000 )) >"$OUT/$name.ms"
}
"#;

/// A private D-Bus session in a sandbox: runs `script` (after [`PRELUDE`]) under
/// `dbus-run-session`, with `HOME` and the XDG directories inside the sandbox, and returns the
/// steps it recorded plus what dbus-run-session itself printed.
fn run_session(
    sandbox: &Sandbox,
    script: &str,
    env: &[(&str, &str)],
) -> (HashMap<String, Step>, Finished) {
    let dbus = require_program("dbus-run-session", "dbus-daemon");
    require_program("gnome-keyring-daemon", "gnome-keyring");
    require_program("timeout", "coreutils");
    let out = sandbox.path().join("steps");
    std::fs::create_dir_all(&out).expect("steps directory");
    let script_path = sandbox.write_file("session.sh", &format!("{PRELUDE}\n{script}\n"), 0o700);
    let home = sandbox.home();
    let xdg = |sub: &str| home.join(sub).display().to_string();
    let runtime = sandbox.runtime_dir().display().to_string();
    let mut all_env: Vec<(&str, String)> = vec![
        ("OUT", out.display().to_string()),
        ("BIN", BIN.to_string()),
        ("XDG_RUNTIME_DIR", runtime),
        ("XDG_DATA_HOME", xdg(".local/share")),
        ("XDG_CONFIG_HOME", xdg(".config")),
        ("XDG_CACHE_HOME", xdg(".cache")),
    ];
    all_env.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    let pairs: Vec<(&str, &str)> = all_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            sandbox.runtime_dir(),
            std::fs::Permissions::from_mode(0o700),
        )
        .expect("chmod XDG_RUNTIME_DIR");
    }
    let cmd = sandbox.command_for(
        "timeout",
        &[
            "-k",
            "10",
            "300",
            &dbus.display().to_string(),
            "--",
            "bash",
            &script_path.display().to_string(),
        ],
        &pairs,
    );
    let finished = binary::run(cmd, None, Duration::from_secs(330));
    assert!(
        !finished.timed_out && finished.code == Some(0),
        "the D-Bus session did not finish cleanly:\n{}",
        finished.describe()
    );
    (read_steps(&out), finished)
}

fn values_dir(sandbox: &Sandbox, values: &[(&str, &str)]) -> PathBuf {
    let dir = sandbox.path().join("values");
    std::fs::create_dir_all(&dir).expect("values directory");
    for (name, value) in values {
        let path = dir.join(name);
        std::fs::write(&path, value).expect("write value");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod value");
    }
    dir
}

fn get<'a>(steps: &'a HashMap<String, Step>, name: &str) -> &'a Step {
    steps.get(name).unwrap_or_else(|| {
        let mut names: Vec<&String> = steps.keys().collect();
        names.sort();
        panic!("the session recorded no step {name}; it recorded {names:?}")
    })
}

/// The status line of one secret in `secret status`.
fn status_of<'a>(status: &'a str, cli_name: &str) -> &'a str {
    status
        .lines()
        .find(|l| l.trim_start().starts_with(cli_name))
        .unwrap_or_else(|| panic!("secret status has no line for {cli_name}:\n{status}"))
}

/// The whole life of secrets in a real, unlocked Secret Service: `secret set` (from stdin) for
/// the JWT secret, the token and the database password; `secret status` (stored / not stored,
/// never values); `config show --json` with source `keychain` and value `***`; the precedence
/// (environment and `NAME_FILE` beat the keychain); `security.jwt_secret_source = keychain`;
/// the keychain's database password really logging in to PostgreSQL (scram); `secret delete`
/// (twice: the second says there is nothing to delete) and `secret status` afterwards.
#[test]
fn a_real_secret_service_stores_reads_and_deletes_secrets() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let values = values_dir(
        &sandbox,
        &[
            ("unlock", UNLOCK_PASSWORD),
            ("jwt", &format!("{JWT_IN_KEYCHAIN}\n")),
            ("jwt_env", JWT_IN_ENV),
            ("jwt_file", &format!("{JWT_IN_FILE}\n")),
            ("token", TOKEN_IN_KEYCHAIN),
            ("db_password", &format!("{PASSWORD}\n")),
            ("short_jwt", "too-short-for-hs256\n"),
        ],
    );
    let script = r#"
printf '%s' "$(cat "$VALUES/unlock")" | timeout -k 5 30 gnome-keyring-daemon --unlock --components=secrets >"$OUT/unlock.out" 2>"$OUT/unlock.err"
echo $? >"$OUT/unlock.rc"; echo 0 >"$OUT/unlock.ms"

step status_empty    /dev/null "$BIN" secret status
step set_jwt         "$VALUES/jwt" "$BIN" secret set jwt-secret
step set_token       "$VALUES/token" "$BIN" secret set token
step set_short_jwt   "$VALUES/short_jwt" "$BIN" secret set jwt-secret
step set_unknown     "$VALUES/token" "$BIN" secret set api-key
step status_stored   /dev/null "$BIN" secret status
step show_keychain   /dev/null "$BIN" config show --json
step show_table      /dev/null "$BIN" config show
(export MEM0_JWT_SECRET="$(cat "$VALUES/jwt_env")"; step show_env_wins /dev/null "$BIN" config show --json)
(export MEM0_JWT_SECRET_FILE="$VALUES/jwt_file"; step show_file_wins /dev/null "$BIN" config show --json)
(export MEM0_JWT_SECRET_SOURCE=keychain; step rule_keychain /dev/null "$BIN" config show --json)
(export MEM0_JWT_SECRET_SOURCE=keychain MEM0_JWT_SECRET="$(cat "$VALUES/jwt_env")"; step rule_keychain_env /dev/null "$BIN" config show --json)

step set_db_password "$VALUES/db_password" "$BIN" secret set db-password
(export MEM0_DB_USER="$T_DB_USER" MEM0_DB_HOST="$T_DB_HOST" MEM0_DB_PORT="$T_DB_PORT" MEM0_DB_NAME="$T_DB_NAME"
 step migrate_with_keychain_password /dev/null "$BIN" migrate
 step status_with_keychain_password  /dev/null "$BIN" migrate --status
 step show_db_password               /dev/null "$BIN" config show --json)

step delete_jwt       /dev/null "$BIN" secret delete jwt-secret
step delete_jwt_again /dev/null "$BIN" secret delete jwt-secret
step delete_token     /dev/null "$BIN" secret delete token
step delete_db_password /dev/null "$BIN" secret delete db-password
step status_after     /dev/null "$BIN" secret status
step show_after       /dev/null "$BIN" config show --json
"#;
    let port = cluster.port.to_string();
    let (steps, session) = run_session(
        &sandbox,
        script,
        &[
            ("VALUES", &values.display().to_string()),
            ("T_DB_USER", PASSWORD_USER),
            ("T_DB_HOST", "127.0.0.1"),
            ("T_DB_PORT", &port),
            ("T_DB_NAME", &db),
        ],
    );
    let secrets = [
        JWT_IN_KEYCHAIN,
        JWT_IN_ENV,
        JWT_IN_FILE,
        TOKEN_IN_KEYCHAIN,
        PASSWORD,
        "too-short-for-hs256",
    ];
    assert_no_secret(&session.all_output(), &secrets, "dbus-run-session");
    for step in steps.values() {
        assert_no_secret(
            &format!("{}\n{}", step.stdout, step.stderr),
            &secrets,
            &format!("step {}", step.name),
        );
    }
    get(&steps, "unlock").ok();

    let empty = get(&steps, "status_empty").ok();
    assert!(empty.stdout.contains("available"), "{}", empty.describe());
    for name in ["jwt-secret", "db-password", "database-url", "token"] {
        assert!(
            status_of(&empty.stdout, name).ends_with("not stored"),
            "{}",
            empty.describe()
        );
    }

    for name in ["set_jwt", "set_token", "set_db_password"] {
        let set = get(&steps, name).ok();
        assert!(set.stdout.contains("Stored"), "{}", set.describe());
    }
    let short = get(&steps, "set_short_jwt");
    assert_eq!(short.code, 2, "{}", short.describe());
    assert!(short.stderr.contains("32"), "{}", short.describe());
    let unknown = get(&steps, "set_unknown");
    assert_eq!(unknown.code, 2, "{}", unknown.describe());
    assert!(
        unknown.stderr.contains("jwt-secret"),
        "{}",
        unknown.describe()
    );

    let stored = get(&steps, "status_stored").ok();
    for (name, state) in [
        ("jwt-secret", "stored"),
        ("token", "stored"),
        ("db-password", "not stored"),
        ("database-url", "not stored"),
    ] {
        let line = status_of(&stored.stdout, name);
        assert!(
            line.ends_with(state) && (state == "not stored" || !line.ends_with("not stored")),
            "{name} should be {state}:\n{}",
            stored.describe()
        );
    }

    // The short secret was refused: the keychain still holds the first one (source keychain,
    // and the settings load, which they would not with a short JWT secret).
    let shown = get(&steps, "show_keychain").ok().json();
    assert_setting(&shown, "MEM0_JWT_SECRET", json!("***"), "keychain");
    assert_setting(&shown, "MEM0_TOKEN", json!("***"), "keychain");
    assert_setting(&shown, "MEM0_DB_PASSWORD", Value::Null, "default");
    let table = get(&steps, "show_table").ok();
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.starts_with("MEM0_JWT_SECRET ")
                && l.contains("***")
                && l.ends_with("keychain")),
        "{}",
        table.describe()
    );

    let env_wins = get(&steps, "show_env_wins").ok().json();
    assert_setting(&env_wins, "MEM0_JWT_SECRET", json!("***"), "env");
    assert_setting(&env_wins, "MEM0_TOKEN", json!("***"), "keychain");
    let file_wins = get(&steps, "show_file_wins").ok().json();
    assert_setting(&file_wins, "MEM0_JWT_SECRET", json!("***"), "file");
    let rule = get(&steps, "rule_keychain").ok().json();
    assert_setting(&rule, "MEM0_JWT_SECRET", json!("***"), "keychain");
    assert_setting(&rule, "MEM0_JWT_SECRET_SOURCE", json!("keychain"), "env");
    let rule_env = get(&steps, "rule_keychain_env");
    assert_eq!(rule_env.code, 2, "{}", rule_env.describe());
    assert!(
        rule_env.stderr.contains("keychain"),
        "{}",
        rule_env.describe()
    );

    get(&steps, "migrate_with_keychain_password").ok();
    get(&steps, "status_with_keychain_password").ok();
    let db_shown = get(&steps, "show_db_password").ok().json();
    assert_setting(&db_shown, "MEM0_DB_PASSWORD", json!("***"), "keychain");
    cluster.assert_authenticated_by(&db, "scram-sha-256");

    for name in ["delete_jwt", "delete_token", "delete_db_password"] {
        let deleted = get(&steps, name).ok();
        assert!(deleted.stdout.contains("Deleted"), "{}", deleted.describe());
    }
    let again = get(&steps, "delete_jwt_again").ok();
    assert!(
        again.stdout.contains("nothing to delete"),
        "{}",
        again.describe()
    );
    let after = get(&steps, "status_after").ok();
    for name in ["jwt-secret", "db-password", "database-url", "token"] {
        assert!(
            status_of(&after.stdout, name).ends_with("not stored"),
            "{}",
            after.describe()
        );
    }
    let shown_after = get(&steps, "show_after").ok().json();
    assert_setting(&shown_after, "MEM0_JWT_SECRET", Value::Null, "default");
    assert_setting(&shown_after, "MEM0_TOKEN", Value::Null, "default");

    for step in steps.values() {
        assert!(
            step.millis < 30_000,
            "step {} took {} ms: keychain access must not stall",
            step.name,
            step.millis
        );
    }
}

/// A session bus whose Secret Service starts by D-Bus activation and stays locked (nobody
/// unlocks it, and there is no prompter): reading settings still works and is quick (the
/// keychain counts as unavailable), and `secret set` fails with a message about the keychain,
/// instead of hanging on a prompt.
#[test]
fn a_locked_secret_service_neither_hangs_nor_breaks_settings() {
    let sandbox = Sandbox::new();
    let values = values_dir(&sandbox, &[("jwt", JWT_IN_KEYCHAIN)]);
    let script = r#"
step show   /dev/null "$BIN" config show --json
step set    "$VALUES/jwt" "$BIN" secret set jwt-secret
step status /dev/null "$BIN" secret status
"#;
    let (steps, session) = run_session(
        &sandbox,
        script,
        &[("VALUES", &values.display().to_string())],
    );
    for step in steps.values() {
        assert_no_secret(
            &format!("{}\n{}", step.stdout, step.stderr),
            &[JWT_IN_KEYCHAIN],
            &step.name,
        );
        assert!(
            step.millis < 30_000,
            "{} took {} ms with a locked keyring",
            step.name,
            step.millis
        );
    }
    assert_no_secret(
        &session.all_output(),
        &[JWT_IN_KEYCHAIN],
        "dbus-run-session",
    );
    let shown = get(&steps, "show").ok().json();
    assert_setting(&shown, "MEM0_JWT_SECRET", Value::Null, "default");
    let set = get(&steps, "set");
    assert_ne!(set.code, 0, "{}", set.describe());
    assert!(set.stderr.contains("keychain"), "{}", set.describe());
    get(&steps, "status").ok();
}

/// BUG (reported): a database password kept in the keychain (for some PostgreSQL project)
/// while no database is configured makes every command that loads settings fail: observed
/// `config show`, `migrate` and `serve` exit 2 with "MEM0_DB_PASSWORD is set but no database
/// is: set MEM0_DATABASE_URL or MEM0_DB_HOST too", which does not say the password comes from
/// the OS keychain (the user never set MEM0_DB_PASSWORD), and `config show`, the command to
/// find out, fails the same way. Expected: either the embedded database is used (a keychain
/// password alone configures no database), or the message names the keychain (and how to
/// remove the entry).
#[test]
fn a_keychain_db_password_without_a_database_is_explained_or_ignored() {
    let sandbox = Sandbox::new();
    let values = values_dir(
        &sandbox,
        &[("unlock", UNLOCK_PASSWORD), ("db_password", PASSWORD)],
    );
    let script = r#"
printf '%s' "$(cat "$VALUES/unlock")" | timeout -k 5 30 gnome-keyring-daemon --unlock --components=secrets >"$OUT/unlock.out" 2>"$OUT/unlock.err"
echo $? >"$OUT/unlock.rc"; echo 0 >"$OUT/unlock.ms"
step set    "$VALUES/db_password" "$BIN" secret set db-password
step show   /dev/null "$BIN" config show --json
step status /dev/null "$BIN" migrate
step delete /dev/null "$BIN" secret delete db-password
"#;
    let (steps, _) = run_session(
        &sandbox,
        script,
        &[("VALUES", &values.display().to_string())],
    );
    get(&steps, "unlock").ok();
    get(&steps, "set").ok();
    get(&steps, "delete").ok();
    for name in ["show", "status"] {
        let step = get(&steps, name);
        assert_no_secret(
            &format!("{}\n{}", step.stdout, step.stderr),
            &[PASSWORD],
            name,
        );
        assert!(
            step.code == 0 || (step.code == 2 && step.stderr.contains("keychain")),
            "with only a keychain db-password, settings should load (embedded database) or the error should name the keychain:\n{}",
            step.describe()
        );
    }
}

fn assert_install_hint(out: &Finished) {
    assert!(
        out.stderr.contains("Secret Service") && out.stderr.contains("_FILE"),
        "the failure should say what to install (a Secret Service) or use instead (*_FILE):\n{}",
        out.describe()
    );
}

/// No D-Bus at all (no `DBUS_SESSION_BUS_ADDRESS`, an empty `XDG_RUNTIME_DIR`), and a bus
/// address that leads nowhere: `config show` works at once (the keychain is skipped), `secret
/// status` says the keychain is unavailable, `secret set` fails with the install hint, and the
/// value given on stdin is never echoed.
#[test]
fn without_a_session_bus_settings_work_and_secret_set_explains() {
    let sandbox = Sandbox::new();
    let runtime = sandbox.runtime_dir().display().to_string();
    let dead_bus = format!("unix:path={}/no-such-bus", sandbox.path().display());
    for env in [
        vec![("XDG_RUNTIME_DIR", runtime.as_str())],
        vec![
            ("XDG_RUNTIME_DIR", runtime.as_str()),
            ("DBUS_SESSION_BUS_ADDRESS", dead_bus.as_str()),
        ],
    ] {
        for args in [&["config", "show"][..], &["config", "show", "--json"]] {
            let out = sandbox.run(args, &env);
            out.ok();
            assert!(
                out.elapsed < Duration::from_secs(5),
                "config show took {:?} without a usable keychain:\n{}",
                out.elapsed,
                out.describe()
            );
        }
        let json = sandbox.config_json(&[], &env);
        assert_setting(&json, "MEM0_JWT_SECRET", Value::Null, "default");

        let status = sandbox.run(&["secret", "status"], &env);
        status.ok();
        assert!(
            status.stdout.contains("unavailable"),
            "{}",
            status.describe()
        );

        let set = sandbox.run_with_stdin(&["secret", "set", "jwt-secret"], &env, JWT_IN_KEYCHAIN);
        set.assert_code(1);
        assert_install_hint(&set);
        assert!(
            set.elapsed < Duration::from_secs(5),
            "secret set took {:?}:\n{}",
            set.elapsed,
            set.describe()
        );
        assert_no_secret(&set.all_output(), &[JWT_IN_KEYCHAIN], &set.what);

        let delete = sandbox.run(&["secret", "delete", "token"], &env);
        delete.assert_code(1);
        assert_install_hint(&delete);

        // Asking for the keychain explicitly when there is none is a configuration error.
        let rule = sandbox.run(
            &["config", "show"],
            &[env.clone(), vec![("MEM0_JWT_SECRET_SOURCE", "keychain")]].concat(),
        );
        rule.assert_code(2);
        assert_install_hint(&rule);
    }
}
