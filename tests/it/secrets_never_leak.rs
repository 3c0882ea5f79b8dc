//! Known secret values (a database password full of URL delimiters, a JWT secret, a token-like
//! `MEM0_TOKEN`, and a wrong password) are given to the real binary, with `MEM0_LOG=trace`, in
//! every command a user runs: `serve` (initialize and tool calls, on the embedded database and
//! on PostgreSQL), `migrate`, `migrate --status`, `config show`, `config show --json`, `secret`,
//! failing starts (wrong password → exit 4, bad configuration → exit 2) and `--help` of every
//! subcommand. None of the values, nor their percent-encoded forms, may appear on stdout or
//! stderr of any of them.
//!
//! PostgreSQL is a throw-away cluster this test binary starts (see `support/cluster.rs`):
//! the system cluster trusts every local connection, so a wrong password would not fail there.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::cluster::{self, PASSWORD, PASSWORD_USER};
use crate::support::secrets::{assert_no_secret, percent_encode};
use crate::support::system::free_port;
use crate::support::{Finished, RawProcess, Sandbox};

const JWT_SECRET: &str = "jwt-LeakCheck-7f3a9c1e5b2d8f4a6c0e2b9d7f1a3c5e";
const WRONG_PASSWORD: &str = "Wr0ng:pa$$/w?rd#%&+ q";
const USER_ID: &str = "leak-tester";

/// A token-like value: `mcp_` and 43 URL-safe characters, like the real ones.
fn synthetic_token() -> String {
    let body = "NeverPrintThisToken_LeakCheck-0123456789abcdef";
    format!("mcp_{}", &body[..43])
}

fn all_secrets(token: &str) -> Vec<String> {
    vec![
        PASSWORD.to_string(),
        WRONG_PASSWORD.to_string(),
        JWT_SECRET.to_string(),
        token.to_string(),
    ]
}

fn check(out: &Finished, secrets: &[String]) {
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert!(!out.timed_out, "{}", out.describe());
    assert_no_secret(&out.all_output(), &refs, &out.what);
}

/// `token create` for `user_id` with these connection settings; returns the token.
fn issue_token(sandbox: &Sandbox, env: &[(&str, &str)], user_id: &str) -> String {
    sandbox
        .run(
            &["token", "create", "--user-id", user_id, "--name", "tests"],
            env,
        )
        .created_token()
}

/// `MEM0_LOG=trace` and every non-database secret.
fn secret_env(token: &str) -> Vec<(String, String)> {
    vec![
        ("MEM0_LOG".into(), "trace".into()),
        ("MEM0_JWT_SECRET".into(), JWT_SECRET.into()),
        ("MEM0_TOKEN".into(), token.into()),
        ("MEM0_USER_ID".into(), USER_ID.into()),
        ("PROJECT_ID_MODE".into(), "manual".into()),
        ("PROJECT_ID".into(), "leaks".into()),
    ]
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn with(mut env: Vec<(String, String)>, more: &[(&str, &str)]) -> Vec<(String, String)> {
    for (k, v) in more {
        env.retain(|(key, _)| key != k);
        env.push((k.to_string(), v.to_string()));
    }
    env
}

/// The PostgreSQL connection of `pwuser` as `MEM0_DB_*` parts with `password`.
fn db_parts(port: u16, db: &str, password: &str) -> Vec<(String, String)> {
    vec![
        ("MEM0_DB_USER".into(), PASSWORD_USER.into()),
        ("MEM0_DB_HOST".into(), "127.0.0.1".into()),
        ("MEM0_DB_PORT".into(), port.to_string()),
        ("MEM0_DB_NAME".into(), db.into()),
        ("MEM0_DB_PASSWORD".into(), password.into()),
    ]
}

fn db_url(port: u16, db: &str, password: &str) -> String {
    format!(
        "postgresql://{PASSWORD_USER}:{}@127.0.0.1:{port}/{db}",
        percent_encode(password)
    )
}

/// What a raw stdio session produced.
#[derive(Debug)]
struct Transcript {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Responses by request id (1 = initialize, 2.. = tool calls).
    responses: Vec<Value>,
}

/// Drives `mem0-mcp serve` with raw JSON-RPC lines: initialize, then `add_memory`,
/// `search_memories` and `memory_status`, then closes stdin. A server that refuses to start
/// (e.g. exit 3 for a token it will not accept) ends the transcript early; both outcomes are
/// checked for leaks by the caller.
async fn drive_serve(sandbox: &Sandbox, env: &[(String, String)]) -> Transcript {
    let mut server = RawProcess::spawn(
        sandbox.command(&["serve"], &pairs(env)),
        sandbox.log_path("serve"),
    );
    let mut responses = Vec::new();

    let requests = [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"leak-check","version":"1"}}}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_memory","arguments":{"content":"The leak check stores this harmless sentence.","tags":["leaks"]}}}),
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search_memories","arguments":{"query":"harmless sentence"}}}),
        json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"memory_status","arguments":{}}}),
    ];
    'session: for request in requests {
        let id = request["id"].clone();
        if !server.try_send_line(&request.to_string()).await {
            break;
        }
        loop {
            let Some(message) = server.next_message().await else {
                break 'session;
            };
            if message.get("id") == Some(&id) {
                responses.push(message);
                break;
            }
        }
        if id == json!(1) {
            let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
            server.try_send_line(&initialized.to_string()).await;
        }
    }
    server.close_stdin();
    let status = server.wait_exit(Duration::from_secs(60)).await;
    Transcript {
        code: status.code(),
        stdout: server.lines.join("\n"),
        stderr: server.stderr(),
        responses,
    }
}

/// Either a full session (exit 0, every call answered without a tool error) or a refusal to
/// start with exit 3 (a token the server validates and rejects); never a leak.
fn check_transcript(label: &str, t: &Transcript, secrets: &[String], token_was_issued: bool) {
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&t.stdout, &refs, &format!("{label}: serve stdout"));
    assert_no_secret(&t.stderr, &refs, &format!("{label}: serve stderr"));
    if t.responses.len() == 4 {
        assert_eq!(t.code, Some(0), "{label}: {t:#?}");
        for response in &t.responses[1..] {
            assert_eq!(
                response.pointer("/result/isError"),
                Some(&json!(false)),
                "{label}: a tool call failed: {response:#}"
            );
        }
        // The check means something only if trace logging really was on.
        assert!(
            t.stderr.contains("TRACE") || t.stderr.contains("DEBUG"),
            "{label}: MEM0_LOG=trace produced no trace/debug lines:\n{}",
            t.stderr
        );
    } else {
        assert!(
            !token_was_issued && t.responses.is_empty() && t.code == Some(3),
            "{label}: the session neither completed nor was refused with exit 3: {t:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_the_embedded_database_never_prints_a_secret() {
    let sandbox = Sandbox::new();
    let token = issue_token(
        &sandbox,
        &[("MEM0_USER_ID", USER_ID), ("MEM0_LOG", "trace")],
        USER_ID,
    );
    let secrets = all_secrets(&token);
    let transcript = drive_serve(&sandbox, &secret_env(&token)).await;
    check_transcript("embedded database", &transcript, &secrets, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres_never_prints_a_secret() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let parts = db_parts(cluster.port, &db, PASSWORD);
    sandbox.run(&["migrate"], &pairs(&parts)).ok();
    let token = issue_token(&sandbox, &pairs(&parts), USER_ID);
    let secrets = all_secrets(&token);
    for (label, connection) in [
        ("PostgreSQL by parts", parts.clone()),
        (
            "PostgreSQL by URL",
            vec![(
                "MEM0_DATABASE_URL".to_string(),
                db_url(cluster.port, &db, PASSWORD),
            )],
        ),
    ] {
        let mut env = secret_env(&token);
        env.extend(connection);
        let transcript = drive_serve(&sandbox, &env).await;
        check_transcript(label, &transcript, &secrets, true);
    }
}

/// `migrate`, `migrate --status`, `config show [--json]` and the `secret` commands (which
/// cannot reach a keychain here), with the password given by parts, by URL and by file.
#[test]
fn cli_commands_never_print_a_secret() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let token = synthetic_token();
    let secrets = all_secrets(&token);
    let password_file = sandbox.write_file("db_password", &format!("{PASSWORD}\n"), 0o600);
    let by_file = {
        let mut env = db_parts(cluster.port, &db, PASSWORD);
        env.retain(|(k, _)| k != "MEM0_DB_PASSWORD");
        env.push((
            "MEM0_DB_PASSWORD_FILE".into(),
            password_file.display().to_string(),
        ));
        env
    };
    let connections = [
        db_parts(cluster.port, &db, PASSWORD),
        vec![(
            "MEM0_DATABASE_URL".to_string(),
            db_url(cluster.port, &db, PASSWORD),
        )],
        by_file,
    ];
    for connection in connections {
        let mut env = secret_env(&token);
        env.extend(connection);
        for args in [
            &["migrate"][..],
            &["migrate", "--status"],
            &["config", "show"],
            &["config", "show", "--json"],
            &["secret", "status"],
        ] {
            let out = sandbox.run(args, &pairs(&env));
            out.ok();
            check(&out, &secrets);
        }
        let out = sandbox.run_with_stdin(
            &["secret", "set", "jwt-secret"],
            &pairs(&env),
            &format!("{JWT_SECRET}\n"),
        );
        assert_ne!(out.code, Some(0), "{}", out.describe());
        check(&out, &secrets);
    }
}

/// A start that must fail: what it is, the connection settings, the exit codes allowed.
type FailingStart = (&'static str, Vec<(String, String)>, &'static [i32]);

/// Starts that fail: a wrong password (exit 4), an unreachable server and an unparseable URL
/// (exit 4), and configuration errors (exit 2), each with the secrets in the environment.
#[test]
fn failing_starts_never_print_a_secret() {
    let cluster = cluster::shared();
    let db = cluster.create_database(PASSWORD_USER);
    let sandbox = Sandbox::new();
    let token = synthetic_token();
    let secrets = all_secrets(&token);
    let base = secret_env(&token);
    let closed_port = free_port();
    let password_file = sandbox.write_file("db_password", &format!("{PASSWORD}\n"), 0o600);
    let config_with_password = sandbox.write_file(
        "mem0.config.json",
        &json!({ "storage": { "database_url": db_url(cluster.port, &db, PASSWORD) } }).to_string(),
        0o600,
    );
    let config_path = config_with_password.display().to_string();
    let password_file = password_file.display().to_string();

    let wrong_by_parts = db_parts(cluster.port, &db, WRONG_PASSWORD);
    let wrong_by_url = vec![(
        "MEM0_DATABASE_URL".to_string(),
        db_url(cluster.port, &db, WRONG_PASSWORD),
    )];
    let unreachable = db_parts(closed_port, &db, PASSWORD);
    let bad_url = vec![(
        "MEM0_DATABASE_URL".to_string(),
        format!(
            "postgresql://{PASSWORD_USER}:{}@127.0.0.1:{}/{db}?sslmode=bogus",
            percent_encode(PASSWORD),
            cluster.port
        ),
    )];
    let cases: Vec<FailingStart> = vec![
        ("wrong password by parts", wrong_by_parts, &[4]),
        ("wrong password by URL", wrong_by_url, &[4]),
        ("server not listening", unreachable, &[4]),
        // A configuration error by the contract (2); today 4 (see connections.rs).
        ("unparseable URL with a password", bad_url, &[2, 4]),
        (
            "password and password file both set",
            with(
                db_parts(cluster.port, &db, PASSWORD),
                &[("MEM0_DB_PASSWORD_FILE", &password_file)],
            ),
            &[2],
        ),
        (
            "peer auth method with a password",
            with(
                db_parts(cluster.port, &db, PASSWORD),
                &[("MEM0_DATABASE_AUTH_METHOD", "peer")],
            ),
            &[2],
        ),
        (
            "a bad timeout",
            with(
                db_parts(cluster.port, &db, PASSWORD),
                &[("MEM0_TIMEOUT", "soon")],
            ),
            &[2],
        ),
        (
            "a config file whose database_url embeds the password",
            vec![("MEM0_CONFIG".to_string(), config_path.clone())],
            &[2],
        ),
        (
            "a URL with an unsupported scheme and a password",
            vec![(
                "MEM0_DATABASE_URL".to_string(),
                format!(
                    "mysql://{PASSWORD_USER}:{}@127.0.0.1/x",
                    percent_encode(PASSWORD)
                ),
            )],
            &[2],
        ),
        (
            "a JWT secret that is too short",
            with(
                db_parts(cluster.port, &db, PASSWORD),
                &[("MEM0_JWT_SECRET", "LeakCheckShortJwt")],
            ),
            &[2],
        ),
    ];
    let mut with_short_jwt = secrets.clone();
    with_short_jwt.push("LeakCheckShortJwt".into());
    for (label, connection, codes) in cases {
        let mut env = base.clone();
        for (k, v) in connection {
            env.retain(|(key, _)| *key != k);
            env.push((k, v));
        }
        for args in [&["migrate"][..], &["migrate", "--status"], &["serve"]] {
            let out = sandbox.run(args, &pairs(&env));
            assert!(
                out.code.is_some_and(|c| codes.contains(&c)),
                "[{label}] expected exit {codes:?}: {}",
                out.describe()
            );
            assert!(
                out.stderr.contains("mem0-mcp: "),
                "[{label}] no error line:\n{}",
                out.describe()
            );
            check(&out, &with_short_jwt);
        }
        let out = sandbox.run(&["config", "show", "--json"], &pairs(&env));
        check(&out, &with_short_jwt);
    }
}

/// The subcommands `--help` lists under "Commands:" (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect()
}

/// `--help`, `-h`, `help …` and `--version` of every command and subcommand (found by walking
/// the help output, so commands added later are covered), with every secret in the
/// environment.
#[test]
fn help_never_prints_a_secret() {
    let cluster = cluster::shared();
    let sandbox = Sandbox::new();
    let token = synthetic_token();
    let secrets = all_secrets(&token);
    let mut env = secret_env(&token);
    env.extend(db_parts(cluster.port, "postgres", PASSWORD));
    let env = pairs(&env);

    let mut queue: Vec<Vec<String>> = vec![vec![]];
    let mut seen = 0;
    while let Some(path) = queue.pop() {
        seen += 1;
        let words: Vec<&str> = path.iter().map(String::as_str).collect();
        let mut help_args = words.clone();
        help_args.push("--help");
        let out = sandbox.run(&help_args, &env);
        out.ok();
        check(&out, &secrets);
        for sub in subcommands(&out.stdout) {
            let mut child = path.clone();
            child.push(sub);
            queue.push(child);
        }
        let mut short = words.clone();
        short.push("-h");
        let out = sandbox.run(&short, &env);
        out.ok();
        check(&out, &secrets);
        let mut via_help = vec!["help"];
        via_help.extend(&words);
        let out = sandbox.run(&via_help, &env);
        check(&out, &secrets);
    }
    assert!(
        seen >= 8,
        "expected at least serve, migrate, config (show, example) and secret (set, delete, status); walked {seen} commands"
    );
    let out = sandbox.run(&["--version"], &env);
    out.ok();
    check(&out, &secrets);
}
