//! `auto` mode asks a client that supports MCP roots for its workspace, at the first tool call,
//! and derives the project from the first `file://` root (here a fake git checkout whose
//! `origin` names the repository). A client without roots falls back to the working directory.

use std::path::Path;

use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
// Roots are deprecated from protocol 2026-07-28 on, but they are what clients send today.
#[allow(deprecated)]
use rmcp::model::{ListRootsResult, Root};
use rmcp::service::RequestContext;
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::Value;

use crate::support::{McpClient, Sandbox};

/// A client like VS Code: it declares roots and answers roots/list with one workspace folder.
#[derive(Debug, Clone)]
pub(crate) struct WorkspaceClient {
    pub(crate) root_uri: Option<String>,
}

// Roots are deprecated from protocol 2026-07-28 on, but they are what clients send today.
#[allow(deprecated)]
impl ClientHandler for WorkspaceClient {
    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.root_uri.is_some() {
            ClientCapabilities::builder().enable_roots().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("roots-test", "1"))
            .with_protocol_version(ProtocolVersion::V_2025_06_18)
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        Ok(ListRootsResult::new(
            self.root_uri
                .iter()
                .map(|uri| Root::new(uri.clone()))
                .collect(),
        ))
    }
}

/// A directory that looks like a git checkout whose `origin` is `origin`.
pub(crate) fn fake_checkout(dir: &Path, origin: &str) {
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(
        dir.join(".git/config"),
        format!("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = {origin}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("src/deep")).unwrap();
}

async fn project_seen_by(
    client: WorkspaceClient,
    sandbox: &Sandbox,
    cwd: &Path,
    data: &Path,
) -> String {
    project_seen_with(client, sandbox, cwd, data, &[]).await
}

async fn project_seen_with(
    client: WorkspaceClient,
    sandbox: &Sandbox,
    cwd: &Path,
    data: &Path,
    env: &[(&str, &str)],
) -> String {
    let data = data.display().to_string();
    let mut command = sandbox.command(
        &[],
        &[
            ("MEM0_DATA_DIR", &data),
            ("MEM0_USER_ID", "roots-user"),
            ("MEM0_LOG", "warn"),
        ],
    );
    command.envs(env.iter().copied());
    command.current_dir(cwd);
    let service = McpClient::start_with(client, command, sandbox.log_path("roots")).await;
    let result = service.ok("memory_status", Value::Null).await;
    let project = result["project_id"].as_str().unwrap().to_string();
    service.shutdown().await;
    project
}

#[tokio::test]
async fn the_first_client_root_decides_the_project() {
    let sandbox = Sandbox::new();
    let tmp = sandbox.path();
    let repo = tmp.join("my checkout");
    fake_checkout(&repo, "git@github.com:acme/widgets.git");
    let elsewhere = tmp.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let data = tmp.join("data");

    let uri = format!("file://{}", repo.join("src/deep").display()).replace(' ', "%20");
    let with_roots = WorkspaceClient {
        root_uri: Some(uri),
    };
    let project = project_seen_by(with_roots, &sandbox, &elsewhere, &data).await;
    assert!(
        project.starts_with("widgets-"),
        "project from the root: {project}"
    );

    let without_roots = WorkspaceClient { root_uri: None };
    let project = project_seen_by(without_roots, &sandbox, &elsewhere, &data).await;
    assert!(
        project.starts_with("elsewhere-"),
        "project from the working directory: {project}"
    );
}

/// Clients that do not expand `${workspaceFolder}` (or a shell's `$HOME`, or cmd's `%APPDATA%`)
/// pass it on literally: the server says so and ignores it, so the project comes from the
/// roots or the working directory instead of one `workspacefolder-…` project for everyone.
#[tokio::test]
async fn an_unexpanded_project_dir_is_reported_and_ignored() {
    let sandbox = Sandbox::new();
    let tmp = sandbox.path();
    let repo = tmp.join("checkout");
    fake_checkout(&repo, "https://example.com/acme/gadgets.git");
    let elsewhere = tmp.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let data = tmp.join("data");

    for placeholder in [
        "${workspaceFolder}",
        "${env:PWD}",
        "$HOME",
        "%APPDATA%\\proj",
    ] {
        let env = [("PROJECT_DIR", placeholder)];
        let with_roots = WorkspaceClient {
            root_uri: Some(format!("file://{}", repo.display())),
        };
        let project = project_seen_with(with_roots, &sandbox, &elsewhere, &data, &env).await;
        assert!(project.starts_with("gadgets-"), "{placeholder}: {project}");
        let without_roots = WorkspaceClient { root_uri: None };
        let project = project_seen_with(without_roots, &sandbox, &elsewhere, &data, &env).await;
        assert!(
            project.starts_with("elsewhere-"),
            "{placeholder}: {project}"
        );
        let logs = sandbox.server_logs();
        assert!(
            logs.contains(&format!("PROJECT_DIR is '{placeholder}'"))
                && logs.contains("write the real value in the client's configuration"),
            "{placeholder}: no warning\n{logs}"
        );
    }

    // doctor reports it too, as a warning.
    let run = sandbox.run(
        &["doctor", "--json"],
        &[
            ("PROJECT_DIR", "${workspaceFolder}"),
            ("MEM0_DATA_DIR", &data.display().to_string()),
        ],
    );
    let report: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.describe()));
    let warned = report["checks"].as_array().unwrap().iter().any(|c| {
        c["warning"] == true
            && c["detail"]
                .as_str()
                .is_some_and(|d| d.contains("PROJECT_DIR is '${workspaceFolder}'"))
    });
    assert!(warned, "{report:#}");
}
