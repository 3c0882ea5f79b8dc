//! Command-line behaviour outside an MCP session: exit codes and the built-in texts.

use std::process::{Command, Stdio};

fn mem0() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mem0-mcp"));
    for (name, _) in std::env::vars() {
        if name.starts_with("MEM0_") || name.starts_with("PROJECT_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

#[test]
fn a_client_that_leaves_before_initialize_ends_the_server_with_0() {
    let data = tempfile::tempdir().unwrap();
    let status = mem0()
        .env("MEM0_DATA_DIR", data.path())
        .env("HOME", data.path())
        .current_dir(data.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn config_example_prints_the_shipped_example() {
    let out = mem0().args(["config", "example"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        include_str!("../config.example.json")
    );
}

#[test]
fn help_documents_exit_codes_and_sources() {
    let out = mem0().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Exit codes",
        "3 authentication failed",
        "NAME_FILE",
        "config show",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}");
    }
}

#[test]
fn a_bad_setting_exits_2_with_one_line() {
    let data = tempfile::tempdir().unwrap();
    let out = mem0()
        .env("MEM0_DATA_DIR", data.path())
        .env("MEM0_TIMEOUT", "soon")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("MEM0_TIMEOUT (from env) is 'soon'"),
        "{stderr}"
    );
}

#[test]
fn config_show_lists_the_settings_even_when_one_is_invalid() {
    let data = tempfile::tempdir().unwrap();
    for json in [false, true] {
        let mut cmd = mem0();
        cmd.args(["config", "show"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .env("MEM0_DATA_DIR", data.path())
            .env("HOME", data.path())
            .env("MEM0_TIMEOUT", "soon")
            .current_dir(data.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "json: {json}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        if json {
            let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(shown["MEM0_TIMEOUT"]["value"], "soon");
            assert_eq!(shown["MEM0_TIMEOUT"]["source"], "env");
        } else {
            let row = stdout
                .lines()
                .find(|l| l.starts_with("MEM0_TIMEOUT "))
                .unwrap_or_else(|| panic!("no MEM0_TIMEOUT row: {stdout}"));
            assert!(row.contains("soon") && row.ends_with("env"), "{row}");
        }
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("cannot be used: MEM0_TIMEOUT (from env) is 'soon'"),
            "{stderr}"
        );
    }
}
