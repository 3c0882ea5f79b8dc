//! Command-line behaviour outside an MCP session: exit codes and the built-in texts.

use crate::support::Sandbox;

/// `MEM0_DATA_DIR` inside the sandbox, as a variable pair's value.
fn data_dir(sandbox: &Sandbox) -> String {
    sandbox.path().join("data").display().to_string()
}

#[test]
fn a_client_that_leaves_before_initialize_ends_the_server_with_0() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&[], &[("MEM0_DATA_DIR", &data_dir(&sandbox))]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
}

#[test]
fn config_example_prints_the_shipped_example() {
    let out = Sandbox::new().run(&["config", "example"], &[]);
    out.ok();
    assert_eq!(out.stdout, include_str!("../../config.example.json"));
}

#[test]
fn help_documents_exit_codes_and_sources() {
    let out = Sandbox::new().run(&["--help"], &[]);
    for needle in [
        "Exit codes",
        "3 authentication failed",
        "NAME_FILE",
        "config show",
    ] {
        assert!(out.stdout.contains(needle), "--help lacks {needle:?}");
    }
}

#[test]
fn a_bad_setting_exits_2_with_one_line() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(
        &[],
        &[
            ("MEM0_DATA_DIR", &data_dir(&sandbox)),
            ("MEM0_TIMEOUT", "soon"),
        ],
    );
    assert_eq!(out.code, Some(2));
    let stderr = out.stderr;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("MEM0_TIMEOUT (from env) is 'soon'"),
        "{stderr}"
    );
}

#[test]
fn config_show_lists_the_settings_even_when_one_is_invalid() {
    let sandbox = Sandbox::new();
    let data = data_dir(&sandbox);
    for json in [false, true] {
        let mut args = vec!["config", "show"];
        if json {
            args.push("--json");
        }
        let out = sandbox.run(&args, &[("MEM0_DATA_DIR", &data), ("MEM0_TIMEOUT", "soon")]);
        assert_eq!(out.code, Some(2), "json: {json}");
        let stdout = out.stdout;
        let stderr = out.stderr;
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
