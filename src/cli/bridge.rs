//! Plain `mem0-mcp` / `serve` with `MEM0_SERVER_URL` set: the stdio bridge to a team server
//! ([`crate::mcp::bridge`]). The project is derived as a local session would (manual:
//! `PROJECT_ID`; auto: `PROJECT_DIR`, else the client's first root, else the working directory;
//! global: none) and sent along.
//! Exit 3 when the server refuses the token, 4 when it cannot be reached.

use super::{ExitCode, Failure};
use crate::mcp::ScopePlan;
use crate::mcp::bridge::{self, BridgeConfig, BridgeError};
use crate::project::ProjectMode;
use crate::settings::Settings;

pub async fn run(settings: &Settings) -> Result<(), Failure> {
    let Some(url) = settings.server_url.clone() else {
        return Ok(());
    };
    let Some(token) = settings.token.clone() else {
        return Err(Failure::new(
            ExitCode::Auth,
            format!(
                "authentication failed (missing token): MEM0_SERVER_URL points at the team server {url}, but MEM0_TOKEN is not set; ask the server's operator for a token (`mem0-mcp token create`) and set MEM0_TOKEN"
            ),
        ));
    };
    let plan = ScopePlan {
        mode: settings.project_mode,
        user_id: settings.user_id.clone().unwrap_or_default(),
        project_id: settings.project_id.clone(),
        project_dir: settings.project_dir.clone(),
    };
    let (project, roots) = match settings.project_mode {
        ProjectMode::Global => (None, None),
        ProjectMode::Manual => (settings.project_id.clone(), None),
        ProjectMode::Auto => match plan.without_client() {
            Some(scope) => (Some(scope.project_id), None),
            None => (None, Some(plan)),
        },
    };
    let config = BridgeConfig {
        url,
        token,
        user_id: settings.user_id.clone(),
        project,
        roots,
        ca: settings.server_ca.clone(),
        timeout: settings.timeout,
    };
    bridge::run(config).await.map_err(|e| {
        let code = match e {
            BridgeError::Refused(_) => ExitCode::Auth,
            BridgeError::Unreachable(_) => ExitCode::Database,
            BridgeError::Config(_) => ExitCode::Usage,
        };
        Failure::new(code, e.to_string())
    })
}
