//! One-step setup, end to end against the real binary: `init` (unattended on both databases,
//! and interactively through a pseudo-terminal), the client configuration it writes launching a
//! working server, `client-config` merging into existing files, `doctor` on healthy and broken
//! setups, and shell completions. Every test runs in a home directory of its own.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::binary::{LIMIT, run};
use crate::support::{BIN, Finished, McpClient, PgDatabase, Sandbox};

/// mem0-mcp's own config directory.
fn mem0_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.config_dir().join("mem0")
}

fn claude_desktop_config(sandbox: &Sandbox) -> PathBuf {
    sandbox
        .config_dir()
        .join("Claude")
        .join("claude_desktop_config.json")
}

fn vscode_config(sandbox: &Sandbox) -> PathBuf {
    sandbox.config_dir().join("Code/User/mcp.json")
}

/// The server entry `name` in a client configuration file.
fn entry(config: &Path, servers_key: &str, name: &str) -> Value {
    let text = std::fs::read_to_string(config)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", config.display()));
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", config.display()));
    value[servers_key][name].clone()
}

/// A server started the way a client does it: the entry's command and arguments, only the
/// variables the entry sets on top of a plain login environment, in `cwd`.
async fn launch(sandbox: &Sandbox, entry: &Value, cwd: &Path) -> McpClient {
    let command = entry["command"]
        .as_str()
        .unwrap_or_else(|| panic!("the entry has no command: {entry}"));
    let args: Vec<&str> = entry
        .get("args")
        .and_then(Value::as_array)
        .map(|args| args.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let env: Vec<(&str, &str)> = entry
        .get("env")
        .and_then(Value::as_object)
        .map(|env| {
            env.iter()
                .map(|(name, value)| {
                    (
                        name.as_str(),
                        value.as_str().expect("env values are strings"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut cmd = sandbox.command_for(command, &args, &env);
    cmd.current_dir(cwd);
    McpClient::start(cmd, sandbox.log_path("launched")).await
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn backups_of(path: &Path) -> Vec<std::path::PathBuf> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut found: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}.bak-"))
        })
        .collect();
    found.sort();
    found
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Stores a memory through a launched server and finds it again.
async fn use_server(server: &McpClient, user: &str, backend: &str) {
    let status = server.ok("memory_status", json!({})).await;
    assert_eq!(status["scope"]["user_id"], user, "{status}");
    assert_eq!(status["backend"], backend, "{status}");
    let added = server
        .ok(
            "add_memory",
            json!({"content": "deploys go through the staging pipeline first"}),
        )
        .await;
    assert_eq!(added["deduplicated"], false, "{added}");
    let found = server
        .ok("search_memories", json!({"query": "staging deploys"}))
        .await;
    assert_eq!(found["results"].as_array().unwrap().len(), 1, "{found}");
}

#[tokio::test]
async fn init_yes_on_the_embedded_database_writes_a_client_config_that_works() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &[
            "init",
            "--yes",
            "--user-id",
            "alice",
            "--client",
            "claude-desktop",
        ],
        &[],
    );
    run.ok();
    assert!(run.stdout.contains("embedded SQLite"), "{}", run.stdout);
    assert!(run.stdout.contains("applied"), "{}", run.stdout);
    let config = claude_desktop_config(&sandbox);
    let server_entry = entry(&config, "mcpServers", "mem0");
    assert_eq!(
        server_entry["command"].as_str().map(Path::new),
        Some(Path::new(BIN).canonicalize().unwrap().as_path())
    );
    assert_eq!(server_entry["env"]["MEM0_USER_ID"], "alice");
    // Claude Desktop starts servers in the home directory.
    let server = launch(&sandbox, &server_entry, &sandbox.home()).await;
    use_server(&server, "alice", "sqlite").await;
    server.shutdown().await;

    // Running it again changes nothing and keeps no needless backup.
    let before = read(&config);
    sandbox
        .run(
            &[
                "init",
                "--yes",
                "--user-id",
                "alice",
                "--client",
                "claude-desktop",
            ],
            &[],
        )
        .ok();
    assert_eq!(read(&config), before);
    assert!(backups_of(&config).is_empty());
    #[cfg(unix)]
    assert_eq!(
        mode(&sandbox.home().join(".local/share/mem0/mem0.db")),
        0o600,
        "the embedded database is its owner's"
    );
}

#[tokio::test]
async fn init_yes_on_postgres_stores_secrets_in_files_and_the_client_config_works() {
    let db = PgDatabase::create();
    let sandbox = Sandbox::new();
    let url = db.url.clone();
    // Trust authentication on the test server ignores the password; it still has to travel
    // from stdin to an owner-only file the client configuration references.
    let args = [
        "init",
        "--yes",
        "--database",
        "postgres",
        "--database-url",
        url.as_str(),
        "--db-password-stdin",
        "--user-id",
        "alice@example.com",
        "--client",
        "claude-desktop",
        "--client",
        "vscode",
        "--write-config",
    ];
    let run = sandbox.run_with_stdin(&args, &[], "s3cret pässword\n");
    run.ok();
    for needle in [
        "PostgreSQL at",
        "reachable",
        "applied",
        "created mcp_",
        "no keychain being used",
        "MEM0_TOKEN_FILE",
    ] {
        assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
    }
    let token_file = mem0_dir(&sandbox).join("token");
    let password_file = mem0_dir(&sandbox).join("db-password");
    let token = read(&token_file).trim().to_string();
    assert!(token.starts_with("mcp_") && token.len() == 47, "{token}");
    assert_eq!(read(&password_file), "s3cret pässword\n");
    #[cfg(unix)]
    {
        assert_eq!(mode(&token_file), 0o600);
        assert_eq!(mode(&password_file), 0o600);
        assert_eq!(mode(&mem0_dir(&sandbox)), 0o700);
    }

    // No secret in clear in any file a client reads.
    let desktop = claude_desktop_config(&sandbox);
    for file in [&desktop, &vscode_config(&sandbox)] {
        let text = read(file);
        assert!(!text.contains(&token), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
    let server_entry = entry(&desktop, "mcpServers", "mem0");
    let env = &server_entry["env"];
    assert_eq!(env["MEM0_DATABASE_URL"], url.as_str());
    assert_eq!(
        env["MEM0_TOKEN_FILE"],
        token_file.display().to_string().as_str()
    );
    assert_eq!(
        env["MEM0_DB_PASSWORD_FILE"],
        password_file.display().to_string().as_str()
    );
    assert_eq!(env["MEM0_USER_ID"], "alice@example.com");
    let server = launch(&sandbox, &server_entry, &sandbox.home()).await;
    use_server(&server, "alice@example.com", "postgres").await;
    server.shutdown().await;

    // VS Code's entry: stdio, the workspace as the project (expanded here as VS Code would).
    let vscode = entry(&vscode_config(&sandbox), "servers", "mem0");
    assert_eq!(vscode["type"], "stdio");
    assert_eq!(vscode["env"]["PROJECT_DIR"], "${workspaceFolder}");
    let mut expanded = vscode.clone();
    expanded["env"]["PROJECT_DIR"] = Value::from(sandbox.cwd().display().to_string());
    let server = launch(&sandbox, &expanded, &sandbox.home()).await;
    let status = server.ok("memory_status", json!({})).await;
    assert!(
        status["scope"]["project_id"]
            .as_str()
            .unwrap()
            .starts_with("project-"),
        "{status}"
    );
    server.shutdown().await;

    // The config file makes shell commands use the same database.
    let config_file = read(&mem0_dir(&sandbox).join("mem0.config.json"));
    let config: Value = serde_json::from_str(&config_file).unwrap();
    assert_eq!(config["storage"]["type"], "database");
    assert_eq!(config["storage"]["database_url"], url.as_str());
    let list = sandbox.run(
        &["token", "list"],
        &[(
            "MEM0_DB_PASSWORD_FILE",
            &password_file.display().to_string(),
        )],
    );
    list.ok();
    assert!(list.stdout.contains("alice@example.com"), "{}", list.stdout);

    // A second run (the user taken from the stored token) keeps the working token and every
    // file as it was.
    let before = read(&desktop);
    let again = sandbox.run(
        &[
            "init",
            "--yes",
            "--database-url",
            url.as_str(),
            "--client",
            "claude-desktop",
        ],
        &[],
    );
    again.ok();
    assert!(again.stdout.contains("keeping mcp_"), "{}", again.stdout);
    assert_eq!(read(&token_file).trim(), token);
    assert_eq!(read(&desktop), before);
    assert!(backups_of(&desktop).is_empty());

    // A revoked token is replaced on the next run (the old file is kept as a backup).
    let display_id = &token[..12];
    sandbox
        .run(&["token", "revoke", display_id, "--yes"], &[])
        .ok();
    let third = sandbox.run(
        &[
            "init",
            "--yes",
            "--database-url",
            url.as_str(),
            "--user-id",
            "alice@example.com",
            "--no-client",
        ],
        &[],
    );
    third.ok();
    assert!(
        third.stdout.contains("the stored one no longer works"),
        "{}",
        third.stdout
    );
    assert_ne!(read(&token_file).trim(), token);
    let token_backups = backups_of(&token_file);
    assert_eq!(token_backups.len(), 1);
    assert_eq!(read(&token_backups[0]).trim(), token);
    #[cfg(unix)]
    assert_eq!(mode(&token_backups[0]), 0o600);
}

#[test]
fn init_refuses_secrets_on_the_command_line_and_questions_without_a_terminal() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &[
            "init",
            "--yes",
            "--database-url",
            "postgresql://me:hunter2@127.0.0.1:5432/mem0",
        ],
        &[],
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--db-password-stdin"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);

    let run = sandbox.run(&["init"], &[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert!(!mem0_dir(&sandbox).exists());
}

#[test]
fn init_on_an_unreachable_postgres_explains_and_exits_4() {
    let sandbox = Sandbox::new();
    // Nothing listens on port 1.
    let run = sandbox.run(
        &[
            "init",
            "--yes",
            "--database-url",
            "postgresql://postgres@127.0.0.1:1/mem0",
            "--no-client",
        ],
        &[],
    );
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(
        run.stderr.contains("cannot connect to the database"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("check that PostgreSQL is running"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn interactive_init_through_a_pseudo_terminal() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.config_dir().join("Claude")).unwrap();
    let mut cmd = sandbox.command(&["init"], &[("TERM", "dumb")]);
    cmd.env_remove("NO_COLOR").env("NO_COLOR", "1");
    let mut session = rexpect::session::spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
    session
        .exp_string("Database (embedded/postgres) [embedded]:")
        .unwrap();
    session.send_line("").unwrap();
    session.exp_string("applied").unwrap();
    session.exp_string("User id [").unwrap();
    session.send_line("bob@example.com").unwrap();
    session.exp_string("Found here: claude-desktop.").unwrap();
    session.exp_string("[claude-desktop]:").unwrap();
    // A typo is asked again.
    session.send_line("claude-dekstop").unwrap();
    session.exp_string("Unknown client claude-dekstop").unwrap();
    session.exp_string("[claude-desktop]:").unwrap();
    session.send_line("").unwrap();
    session.exp_string("[Y/n]").unwrap();
    session.send_line("y").unwrap();
    session.exp_string("added server \"mem0\"").unwrap();
    session.exp_string("mem0-mcp doctor").unwrap();
    session.exp_eof().unwrap();
    let status = format!("{:?}", session.process_mut().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "init ended with {status}"
    );

    let server_entry = entry(&claude_desktop_config(&sandbox), "mcpServers", "mem0");
    assert_eq!(server_entry["env"]["MEM0_USER_ID"], "bob@example.com");
    assert!(!mem0_dir(&sandbox).join("mem0.config.json").exists());
    let server = launch(&sandbox, &server_entry, &sandbox.home()).await;
    use_server(&server, "bob@example.com", "sqlite").await;
    server.shutdown().await;
}

#[test]
fn interactive_init_on_postgres_retries_a_failed_connection() {
    let db = PgDatabase::create();
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&["init"], &[("TERM", "dumb"), ("NO_COLOR", "1")]);
    cmd.env_remove("MEM0_DATABASE_URL");
    let mut session = rexpect::session::spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
    session.exp_string("[embedded]:").unwrap();
    session.send_line("postgres").unwrap();
    session.exp_string("PostgreSQL URL [postgresql://").unwrap();
    // Nothing listens on port 1: the failure is explained and the question asked again.
    session
        .send_line("postgresql://postgres@127.0.0.1:1/nowhere")
        .unwrap();
    session.exp_string("Password (input hidden").unwrap();
    session.send_line("").unwrap();
    session
        .exp_string("cannot connect to the database")
        .unwrap();
    session
        .exp_string("Try other connection settings? [Y/n]")
        .unwrap();
    session.send_line("").unwrap();
    session
        .exp_string("PostgreSQL URL [postgresql://postgres@127.0.0.1:1/nowhere]:")
        .unwrap();
    session.send_line(&db.url).unwrap();
    // Trust authentication ignores it; it is still stored for the client.
    session.exp_string("Password (input hidden").unwrap();
    session.send_line("typed-pw").unwrap();
    session.exp_string("applied").unwrap();
    session.exp_string("User id [").unwrap();
    session.send_line("erin").unwrap();
    session.exp_string("created mcp_").unwrap();
    session.exp_string("[y/N]").unwrap();
    session.send_line("y").unwrap();
    session
        .exp_string("None was found on this machine.")
        .unwrap();
    session.exp_string("[none]:").unwrap();
    session.send_line("").unwrap();
    session.exp_string("No client configured").unwrap();
    session.exp_eof().unwrap();
    let status = format!("{:?}", session.process_mut().wait().unwrap());
    assert!(status.ends_with(", 0)"), "init ended with {status}");

    assert_eq!(read(&mem0_dir(&sandbox).join("db-password")), "typed-pw\n");
    assert!(read(&mem0_dir(&sandbox).join("token")).starts_with("mcp_"));
    let config: Value =
        serde_json::from_str(&read(&mem0_dir(&sandbox).join("mem0.config.json"))).unwrap();
    assert_eq!(config["storage"]["database_url"], db.url.as_str());
}

#[test]
fn client_config_write_merges_keeps_other_entries_and_a_backup() {
    let sandbox = Sandbox::new();
    let config = claude_desktop_config(&sandbox);
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = r#"{
  "globalShortcut": "Alt+Space",
  "mcpServers": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_TOKEN": "ghp_x"}},
    "mem0": {"command": "/old/place/mem0-mcp"}
  }
}
"#;
    std::fs::write(&config, original).unwrap();
    let data = sandbox.home().join("data");
    let data = data.display().to_string();
    let env = [("MEM0_DATA_DIR", data.as_str()), ("MEM0_USER_ID", "carol")];
    let run = sandbox.run(
        &["client-config", "--client", "claude-desktop", "--write"],
        &env,
    );
    run.ok();
    assert!(
        run.stdout.contains("updated server \"mem0\""),
        "{}",
        run.stdout
    );
    let merged: Value = serde_json::from_str(&read(&config)).unwrap();
    assert_eq!(merged["globalShortcut"], "Alt+Space");
    assert_eq!(
        merged["mcpServers"]["github"],
        json!({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_TOKEN": "ghp_x"}})
    );
    let mem0 = &merged["mcpServers"]["mem0"];
    assert_eq!(mem0["env"]["MEM0_DATA_DIR"], data.as_str());
    assert_eq!(mem0["env"]["MEM0_USER_ID"], "carol");
    let backups = backups_of(&config);
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(read(&backups[0]), original);

    // Again: nothing to change, no new backup.
    let run = sandbox.run(
        &["client-config", "--client", "claude-desktop", "--write"],
        &env,
    );
    run.ok();
    assert!(run.stdout.contains("already up to date"), "{}", run.stdout);
    assert_eq!(backups_of(&config).len(), 1);

    // A file with comments is left alone, with the reason.
    let vscode = vscode_config(&sandbox);
    std::fs::create_dir_all(vscode.parent().unwrap()).unwrap();
    std::fs::write(&vscode, "{\n  // mine\n  \"servers\": {}\n}\n").unwrap();
    let run = sandbox.run(&["client-config", "--client", "vscode", "--write"], &env);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("not plain JSON"), "{}", run.stderr);
    assert_eq!(read(&vscode), "{\n  // mine\n  \"servers\": {}\n}\n");
}

#[test]
fn client_config_prints_each_clients_shape_without_secrets_unless_asked() {
    let sandbox = Sandbox::new();
    let token = "mcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let token_file = sandbox.home().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let token_file = token_file.display().to_string();
    let pg = [
        ("MEM0_DATABASE_URL", "postgresql://me@db.example:5432/mem0"),
        ("MEM0_DB_PASSWORD", "hunter2"),
        ("MEM0_TOKEN_FILE", token_file.as_str()),
        ("MEM0_USER_ID", "me@example.com"),
    ];
    let run = sandbox.run(&["client-config", "--client", "cursor"], &pg);
    run.ok();
    let snippet: Value = serde_json::from_str(&run.stdout).unwrap();
    let env = &snippet["mcpServers"]["mem0"]["env"];
    assert_eq!(
        env["MEM0_DATABASE_URL"],
        "postgresql://me@db.example:5432/mem0"
    );
    assert_eq!(env["MEM0_TOKEN_FILE"], token_file.as_str());
    assert_eq!(env["PROJECT_DIR"], "${workspaceFolder}");
    assert!(env.get("MEM0_DB_PASSWORD").is_none(), "{env}");
    assert!(!run.stdout.contains("hunter2") && !run.stdout.contains(token));
    assert!(
        run.stderr.contains("MEM0_DB_PASSWORD_FILE"),
        "{}",
        run.stderr
    );

    let run = sandbox.run(
        &["client-config", "--client", "cursor", "--show-secrets"],
        &pg,
    );
    run.ok();
    let snippet: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        snippet["mcpServers"]["mem0"]["env"]["MEM0_DB_PASSWORD"],
        "hunter2"
    );

    let run = sandbox.run(&["client-config", "--client", "claude-code"], &pg);
    run.ok();
    assert!(
        run.stdout
            .starts_with("claude mcp add mem0 -e MEM0_DATABASE_URL="),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--scope user -- '"), "{}", run.stdout);
    assert!(
        run.stderr.contains("directory you run `claude` in"),
        "{}",
        run.stderr
    );

    let run = sandbox.run(&["client-config", "--client", "claude-desktop"], &pg);
    run.ok();
    assert!(run.stderr.contains("home directory"), "{}", run.stderr);
    let snippet: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        snippet["mcpServers"]["mem0"]["env"]
            .get("PROJECT_DIR")
            .is_none()
    );
}

/// Lines of a doctor run that start with a mark.
fn marked_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with('✓') || l.starts_with('⚠') || l.starts_with('✗'))
        .collect()
}

#[track_caller]
fn assert_failed_with(run: &Finished, prefix: &str, needles: &[&str]) {
    assert_eq!(run.code, Some(1), "{run:?}");
    let line = marked_lines(&run.stdout)
        .into_iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}:\n{}", run.stdout));
    for needle in needles {
        assert!(line.contains(needle), "{needle:?} not in {line:?}");
    }
    assert!(line.contains(" — fix: "), "{line}");
}

#[test]
fn doctor_passes_a_healthy_setup_and_names_each_breakage() {
    let db = PgDatabase::create();
    let sandbox = Sandbox::new();
    sandbox
        .run(
            &[
                "init",
                "--yes",
                "--database-url",
                db.url.as_str(),
                "--user-id",
                "dora@example.com",
                "--client",
                "claude-desktop",
                "--write-config",
            ],
            &[],
        )
        .ok();
    let token_file = mem0_dir(&sandbox).join("token");
    let token_file_text = token_file.display().to_string();
    let as_client = [
        ("MEM0_TOKEN_FILE", token_file_text.as_str()),
        ("MEM0_USER_ID", "dora@example.com"),
    ];

    // Healthy: every line ✓, exit 0, in the shell and as the client starts the server.
    for args in [vec!["doctor"], vec!["doctor", "--client", "claude-desktop"]] {
        let run = sandbox.run(&args, &[]);
        run.ok();
        let lines = marked_lines(&run.stdout);
        assert!(lines.len() >= 7, "{}", run.stdout);
        assert!(lines.iter().all(|l| l.starts_with('✓')), "{}", run.stdout);
        assert!(!run.stdout.contains('\x1b'), "no colour off a terminal");
        for needle in [
            "✓ database: PostgreSQL at",
            "ms round trip",
            "✓ schema: up to date",
            "✓ keychain:",
            "✓ direct access: direct mode: this process holds the PostgreSQL credentials",
            "✓ project: auto resolves the current directory",
            "✓ client claude-desktop:",
            "runs this binary",
            "is valid for dora@example.com with read,write; expires in 364 days",
        ] {
            assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
        }
    }
    let run = sandbox.run(&["doctor"], &as_client);
    run.ok();
    assert!(run.stdout.contains("file: MEM0_TOKEN ("), "{}", run.stdout);
    assert!(
        run.stdout.contains("config: MEM0_DATABASE_URL"),
        "{}",
        run.stdout
    );
    // With the JWT secret as well, it can mint for anyone: a warning that says so.
    let jwt = "doctor-test-jwt-secret-0123456789abcdef";
    let run = sandbox.run(
        &["doctor"],
        &[as_client[0], as_client[1], ("MEM0_JWT_SECRET", jwt)],
    );
    run.ok();
    assert!(
        run.stdout.contains("⚠ direct access:")
            && run.stdout.contains("it can mint tokens for any user"),
        "{}",
        run.stdout
    );
    let json = sandbox.run(&["doctor", "--json"], &as_client);
    json.ok();
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true)
    );

    // Wrong password. The test server trusts every connection from 127.0.0.1, so a wrong
    // password for an existing role would be accepted; a role that does not exist is refused
    // at login the same way (28000 under trust, 28P01 under password authentication).
    let wrong_login = db.url.replacen("://postgres@", "://no_such_role_m0s@", 1);
    assert_ne!(wrong_login, db.url, "the admin URL names the postgres user");
    let run = sandbox.run(
        &["doctor"],
        &[
            ("MEM0_DATABASE_URL", wrong_login.as_str()),
            ("MEM0_DB_PASSWORD", "wrong-pw-m0s"),
        ],
    );
    assert_failed_with(
        &run,
        "✗ database:",
        &["refused the login", "check the user and password"],
    );
    assert!(
        !run.stdout.contains("wrong-pw-m0s"),
        "the password is never shown"
    );

    // An unmigrated schema.
    let empty = PgDatabase::create();
    let run = sandbox.run(&["doctor"], &[("MEM0_DATABASE_URL", empty.url.as_str())]);
    assert_failed_with(
        &run,
        "✗ schema:",
        &["no mem0-mcp schema yet", "mem0-mcp migrate"],
    );

    // A missing _FILE.
    let run = sandbox.run(
        &["doctor"],
        &[
            ("MEM0_TOKEN_FILE", "/nonexistent/m0s/token"),
            ("MEM0_USER_ID", "dora@example.com"),
        ],
    );
    assert_failed_with(
        &run,
        "✗ MEM0_TOKEN_FILE:",
        &["/nonexistent/m0s/token does not exist"],
    );
    let json = sandbox.run(
        &["doctor", "--json"],
        &[("MEM0_TOKEN_FILE", "/nonexistent/m0s/token")],
    );
    assert_eq!(json.code, Some(1));
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["name"], "MEM0_TOKEN_FILE");
    assert!(failed[0]["fix"].as_str().unwrap().contains("init"));

    // A revoked token: the shell check and the client's both say so.
    let token = read(&token_file).trim().to_string();
    sandbox
        .run(&["token", "revoke", &token[..12], "--yes"], &[])
        .ok();
    let run = sandbox.run(&["doctor"], &as_client);
    assert_failed_with(&run, "✗ token:", &["revoked", &token[..12]]);
    assert_failed_with(&run, "✗ client claude-desktop:", &["revoked"]);
    assert!(!run.stdout.contains(&token), "the token is never shown");

    // The client's token file gone: its line says which file.
    std::fs::remove_file(&token_file).unwrap();
    let run = sandbox.run(&["doctor"], &[]);
    assert_failed_with(
        &run,
        "✗ client claude-desktop:",
        &["MEM0_TOKEN_FILE", "does not exist"],
    );
}

#[test]
fn doctor_warns_about_the_home_directory_but_passes() {
    let sandbox = Sandbox::new();
    sandbox.run(&["init", "--yes", "--no-client"], &[]).ok();
    let mut cmd = sandbox.command(&["doctor"], &[]);
    cmd.current_dir(sandbox.home());
    let output = run(cmd, None, LIMIT);
    let stdout = &output.stdout;
    assert_eq!(output.code, Some(0), "{stdout}");
    let line = marked_lines(stdout)
        .into_iter()
        .find(|l| l.starts_with("⚠ project:"))
        .unwrap_or_else(|| panic!("no project warning:\n{stdout}"));
    assert!(line.contains("home directory"), "{line}");
    assert!(line.contains("PROJECT_DIR"), "{line}");
    // No client file at all is worth a warning too.
    assert!(
        stdout.contains("⚠ clients: no client configuration file found"),
        "{stdout}"
    );
}

#[test]
fn completions_cover_every_shell_and_command() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = sandbox.run(&["completions", shell], &[]);
        run.ok();
        for needle in ["mem0-mcp", "init", "doctor", "client-config"] {
            assert!(run.stdout.contains(needle), "{shell} lacks {needle}");
        }
    }
    let run = sandbox.run(&["completions", "tcsh"], &[]);
    assert_eq!(run.code, Some(2));
}

#[test]
fn help_texts_explain_the_setup_commands() {
    let sandbox = Sandbox::new();
    let top = sandbox.run(&["--help"], &[]);
    top.ok();
    for needle in ["init", "doctor", "client-config", "completions"] {
        assert!(top.stdout.contains(needle), "--help lacks {needle}");
    }
    for (command, needles) in [
        (
            "init",
            &["--yes", "--db-password-stdin", "--secrets", "bak-"][..],
        ),
        ("doctor", &["--json", "Exit codes"][..]),
        (
            "client-config",
            &["--write", "claude-desktop", "%APPDATA%"][..],
        ),
    ] {
        let run = sandbox.run(&[command, "--help"], &[]);
        run.ok();
        for needle in needles {
            assert!(
                run.stdout.contains(needle),
                "{command} --help lacks {needle}"
            );
        }
    }
}
