//! `mem0-mcp serve` (and plain `mem0-mcp`): open the store, make sure its schema is current,
//! authenticate (always on PostgreSQL; on the embedded database when a token is given), and
//! serve MCP over stdin/stdout until the client closes stdin or a signal arrives. Nothing here
//! writes to stdout except the MCP transport.

use std::sync::Arc;

use clap::Args;
use rmcp::ServiceExt;

use super::{ExitCode, Failure};
use crate::access::{Permissions, Principal};
use crate::auth::{self, AuditLog, AuthError, Credentials, Purpose, SessionGuard};
use crate::mcp::{MemoryServer, ScopePlan};
use crate::memory::{MemoryService, ProjectMode, ServiceLimits};
use crate::settings::Settings;
use crate::store::{self, Backend, Stores};

#[derive(Debug, Args, Default)]
pub struct ServeArgs {}

pub async fn run(_args: &ServeArgs, settings: &Settings) -> Result<(), Failure> {
    // Read once at startup like every other setting; tests shorten it.
    let recheck_every =
        auth::revocation::recheck_interval(std::env::var("MEM0_AUTH_RECHECK_SECS").ok().as_deref())
            .map_err(|message| Failure::new(ExitCode::Usage, message))?;
    let stores = store::open_all_lazy(&settings.database, settings.timeout).await?;
    store::ensure_current(stores.memories.as_ref()).await?;
    let acting = acting_principal(settings, &stores).await?;
    let principal = acting.principal;
    let service = Arc::new(MemoryService::new(
        stores.memories.clone(),
        ServiceLimits {
            max_memories_per_scope: settings.max_memories_per_context,
            backup_dir: settings
                .backup_enabled
                .then(|| settings.data_dir.join("backups")),
        },
    ));
    let mut plan = ScopePlan {
        mode: settings.project_mode,
        user_id: principal.user_id.clone(),
        project_id: settings.project_id.clone(),
        project_dir: settings.project_dir.clone(),
    };
    if let Some(project) = acting.project {
        // A minted token limited to one project works in that project only.
        if settings
            .project_id
            .as_ref()
            .is_some_and(|id| *id != project)
        {
            tracing::warn!(project.id = %project, "the minted token is limited to another project than PROJECT_ID; using the token's project");
        }
        plan.mode = ProjectMode::Manual;
        plan.project_id = Some(project);
    }
    // The startup checks are done: hold no connection until the first tool call.
    stores.memories.release_idle_connections().await;
    tracing::info!(
        user.id = %principal.user_id,
        project.mode = settings.project_mode.as_str(),
        database = %settings.database.describe(),
        "serving MCP over stdio"
    );
    let mut server = MemoryServer::new(service, principal, plan, settings.timeout)
        .with_audit(AuditLog::new(stores.tokens.clone()));
    if let Some(guard) = acting.guard {
        auth::revocation::spawn_recheck(guard.clone(), stores.tokens.clone(), recheck_every);
        server = server.with_session_guard(guard);
    }
    let transport = crate::mcp::stdio::stdio();
    let running = match server.serve((transport.reader, transport.writer)).await {
        Ok(running) => running,
        // The client went away before it said hello (stdin closed): a normal end, not a failure.
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => {
            tracing::info!("stdin closed before initialize; exiting");
            return Ok(());
        }
        Err(e) => {
            return Err(Failure::new(
                ExitCode::Other,
                format!("the MCP session could not start: {e}"),
            ));
        }
    };
    let cancel = running.cancellation_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("signal received; shutting down");
        cancel.cancel();
    });
    let reason = running
        .waiting()
        .await
        .map_err(|e| Failure::new(ExitCode::Other, format!("the MCP session failed: {e}")))?;
    // Every response written must reach the client before the process exits.
    let _ = transport.flushed.await;
    tracing::info!(?reason, "MCP session ended");
    Ok(())
}

/// Who the server acts for, and what keeps checking that it still may.
#[derive(Debug)]
struct Acting {
    principal: Principal,
    guard: Option<Arc<SessionGuard>>,
    project: Option<String>,
}

/// PostgreSQL: the token in `MEM0_TOKEN` must be valid for `MEM0_USER_ID`. The embedded
/// database is readable by its owner only, so without a token its owner acts as `MEM0_USER_ID`
/// (else the OS user name) with every permission; a token that is given is checked all the same.
async fn acting_principal(settings: &Settings, stores: &Stores) -> Result<Acting, Failure> {
    if stores.memories.backend() == Backend::Sqlite && settings.token.is_none() {
        return Ok(Acting {
            principal: Principal {
                user_id: settings.user_id.clone().unwrap_or_else(os_user_name),
                permissions: Permissions::ALL,
                token_display_id: None,
            },
            guard: None,
            project: None,
        });
    }
    let credentials = Credentials {
        token: settings.token.as_ref(),
        user_id: settings.user_id.as_deref(),
        jwt_secret: settings.jwt_secret.as_ref(),
    };
    let global = settings.project_mode == ProjectMode::Global;
    match auth::authenticate(stores.tokens.as_ref(), credentials, Purpose::Serve, global).await {
        Ok(done) => Ok(Acting {
            principal: done.principal,
            guard: Some(SessionGuard::new(done.session)),
            project: done.project,
        }),
        Err(AuthError::Store(e)) => Err(e.into()),
        Err(e) => Err(Failure::new(ExitCode::Auth, e.to_string())),
    }
}

pub fn os_user_name() -> String {
    whoami::username().unwrap_or_else(|_| "default".into())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
