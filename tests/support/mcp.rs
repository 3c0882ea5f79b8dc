//! One MCP session with the real server: initialize, `add_memory`, `search_memories` (which
//! must find what was added) and `memory_status`, each answered within a time limit.

use std::process::Command;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

use super::process::Sandbox;

const CALL_LIMIT: Duration = Duration::from_secs(60);

/// What a finished session left behind.
#[derive(Debug)]
pub struct Session {
    /// Everything the server wrote to stderr.
    pub stderr: String,
    /// `memory_status`'s structured result.
    pub status: Value,
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    name: &str,
    args: Value,
    stderr: &std::path::Path,
    label: &str,
) -> Value {
    let mut params = CallToolRequestParams::new(name.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    let result = match tokio::time::timeout(CALL_LIMIT, client.call_tool(params)).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => panic!(
            "[{label}] {name} failed: {e}\nserver stderr:\n{}",
            read(stderr)
        ),
        Err(_) => panic!(
            "[{label}] {name} did not answer within {CALL_LIMIT:?}\nserver stderr:\n{}",
            read(stderr)
        ),
    };
    let text: Vec<String> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    assert!(
        !result.is_error.unwrap_or(false),
        "[{label}] {name} returned a tool error: {}\nserver stderr:\n{}",
        text.join("\n"),
        read(stderr)
    );
    result.structured_content.unwrap_or(Value::Null)
}

/// Runs `mem0-mcp serve` as `cmd` describes (environment, working directory) and proves the
/// connection works end to end: a memory added is found by a search in the same scope.
/// `label` names the connection form in failure messages.
pub async fn round_trip(sandbox: &Sandbox, cmd: Command, label: &str) -> Session {
    let stderr_path = sandbox
        .path()
        .join(format!("serve-{}.stderr", uuid::Uuid::new_v4().simple()));
    let stderr_file = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(stderr_file)
        .spawn()
        .unwrap_or_else(|e| panic!("[{label}] cannot start mem0-mcp serve: {e}"));
    let client = match tokio::time::timeout(CALL_LIMIT, ().serve(transport)).await {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!(
            "[{label}] the MCP handshake failed: {e}\nserver stderr:\n{}",
            read(&stderr_path)
        ),
        Err(_) => panic!(
            "[{label}] initialize was not answered within {CALL_LIMIT:?}\nserver stderr:\n{}",
            read(&stderr_path)
        ),
    };
    let word = format!("zq{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let content = format!("Connection form {label} reaches the database; marker {word}.");
    let added = call(
        &client,
        "add_memory",
        json!({ "content": content, "tags": ["connections"] }),
        &stderr_path,
        label,
    )
    .await;
    let id = added
        .pointer("/memory/id")
        .cloned()
        .unwrap_or_else(|| panic!("[{label}] add_memory returned no memory.id: {added:#}"));
    assert_eq!(
        added.pointer("/memory/content").and_then(Value::as_str),
        Some(content.as_str()),
        "[{label}] add_memory: {added:#}"
    );
    let found = call(
        &client,
        "search_memories",
        json!({ "query": word }),
        &stderr_path,
        label,
    )
    .await;
    let results = found
        .get("results")
        .and_then(Value::as_array)
        .unwrap_or_else(|| {
            panic!("[{label}] search_memories returned no results array: {found:#}")
        });
    assert!(
        results.iter().any(|r| r.get("id") == Some(&id)),
        "[{label}] search_memories for {word} did not find the memory just added: {found:#}"
    );
    let status = call(&client, "memory_status", json!({}), &stderr_path, label).await;
    let _ = tokio::time::timeout(CALL_LIMIT, client.cancel()).await;
    Session {
        stderr: read(&stderr_path),
        status,
    }
}

/// With PostgreSQL the server may require `MEM0_TOKEN` (the contract's `token create`): when
/// the binary has that command, issue a token for `user_id` with the same connection settings
/// and return it; without the command, `None` (the server then acts as `MEM0_USER_ID`).
pub fn issue_token(sandbox: &Sandbox, env: &[(&str, &str)], user_id: &str) -> Option<String> {
    let out = sandbox.run(
        &["token", "create", "--user-id", user_id, "--name", "tests"],
        env,
    );
    if out.code == Some(2) && out.stderr.contains("unrecognized subcommand") {
        return None;
    }
    out.assert_success();
    let token = out
        .stdout
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .find(|w| w.starts_with("mcp_") && w.len() == 47)
        .unwrap_or_else(|| panic!("token create printed no mcp_ token:\n{}", out.describe()));
    Some(token.to_string())
}
