//! Launches `mem0-mcp` over stdio the way Claude Desktop does, on the embedded database in a
//! temporary data directory, stores a few memories, searches them and prints what came back.
//!
//! Run it with `cargo run --example quickstart` (it builds the server binary first, with the same
//! profile, so the two never drift apart).

// This is a demo program whose output is the point; the server itself never prints to stdout.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::Command as StdCommand;

use anyhow::{Context, Result, bail};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::process::Command;

/// The server binary beside this example's directory (`target/<profile>/mem0-mcp`), built now.
fn server_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MEM0_MCP_BIN") {
        return Ok(PathBuf::from(path));
    }
    let example = std::env::current_exe().context("cannot locate this example")?;
    let profile_dir = example
        .parent()
        .and_then(|examples| examples.parent())
        .context("the example is not inside a cargo target directory")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = StdCommand::new(cargo);
    build.args(["build", "--quiet", "--bin", "mem0-mcp"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build
        .status()
        .context("cannot run cargo to build mem0-mcp")?;
    if !status.success() {
        bail!("building mem0-mcp failed");
    }
    Ok(profile_dir.join(format!("mem0-mcp{}", std::env::consts::EXE_SUFFIX)))
}

fn args(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("tool arguments are objects"),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let binary = server_binary()?;
    let data_dir = tempfile::tempdir()?;
    println!(
        "Launching {} (data dir {})",
        binary.display(),
        data_dir.path().display()
    );

    // The same launch a client config describes: a command and its environment.
    let mut command = Command::new(&binary);
    command
        .env("MEM0_DATA_DIR", data_dir.path())
        .env("PROJECT_ID_MODE", "manual")
        .env("PROJECT_ID", "quickstart")
        .env("MEM0_USER_ID", "quickstart-user")
        .env_remove("MEM0_DATABASE_URL")
        .env_remove("MEM0_TOKEN")
        .env("MEM0_LOG", "warn");
    let client = ().serve(TokioChildProcess::new(command)?).await?;
    let server = client
        .peer_info()
        .and_then(|info| info.server_info.clone())
        .context("the server sent no initialize result")?;
    println!("Connected to {} {}\n", server.name, server.version);

    let tools = client.list_all_tools().await?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    println!("Tools: {}\n", names.join(", "));

    for (content, tags) in [
        (
            "This repository uses pnpm, not npm: run `pnpm install`.",
            json!(["tooling"]),
        ),
        (
            "Deploys go through Fly.io with `fly deploy` from the main branch.",
            json!(["deploy"]),
        ),
        (
            "The API server reads its settings from config/settings.toml (v1.2.3 format).",
            json!(["config"]),
        ),
        (
            "This repository uses pnpm, not npm: run `pnpm install`.",
            json!(["tooling"]),
        ),
    ] {
        let result = client
            .call_tool(
                CallToolRequestParams::new("add_memory").with_arguments(args(json!({
                    "content": content, "tags": tags
                }))),
            )
            .await?;
        print_text("add_memory", &result.content);
    }

    for query in ["pnpm or npm?", "deploying", "settings.toml"] {
        let result = client
            .call_tool(
                CallToolRequestParams::new("search_memories")
                    .with_arguments(args(json!({ "query": query, "limit": 3 }))),
            )
            .await?;
        print_text(&format!("search_memories \"{query}\""), &result.content);
    }

    let status = client
        .call_tool(CallToolRequestParams::new("memory_status"))
        .await?;
    print_text("memory_status", &status.content);

    client.cancel().await?;
    Ok(())
}

fn print_text(label: &str, content: &[rmcp::model::ContentBlock]) {
    println!("> {label}");
    for block in content {
        if let Some(text) = block.as_text() {
            println!("{}\n", text.text);
        }
    }
}
