//! `mem0-mcp serve` (and plain `mem0-mcp`): resolve who acts, open the store, make sure its
//! schema is current, and serve MCP over stdin/stdout until the client closes stdin or a
//! signal arrives. Nothing here writes to stdout except the MCP transport.

use std::sync::Arc;

use clap::Args;
use rmcp::ServiceExt;

use super::migrate::database_failure;
use super::{ExitCode, Failure};
use crate::mcp::{MemoryServer, ScopePlan};
use crate::memory::{MemoryService, Permissions, Principal, ServiceLimits};
use crate::settings::{DatabaseTarget, Settings};
use crate::store::{self, Backend, MemoryStore};

#[derive(Debug, Args, Default)]
pub struct ServeArgs {}

pub async fn run(_args: &ServeArgs, settings: &Settings) -> Result<(), Failure> {
    let store = store::open(&settings.database, settings.timeout)
        .await
        .map_err(database_failure)?;
    prepare_schema(store.as_ref()).await?;
    let principal = acting_principal(settings, store.backend());
    let service = Arc::new(MemoryService::new(
        store,
        ServiceLimits {
            max_memories_per_scope: settings.max_memories_per_context,
            backup_dir: settings
                .backup_enabled
                .then(|| settings.data_dir.join("backups")),
        },
    ));
    let plan = ScopePlan {
        mode: settings.project_mode,
        user_id: principal.user_id.clone(),
        project_id: settings.project_id.clone(),
        project_dir: settings.project_dir.clone(),
    };
    tracing::info!(
        user.id = %principal.user_id,
        project.mode = settings.project_mode.as_str(),
        database = %settings.database.describe(),
        "serving MCP over stdio"
    );
    let server = MemoryServer::new(service, principal, plan, settings.timeout);
    let transport = crate::mcp::stdio::stdio();
    let running = server
        .serve((transport.reader, transport.writer))
        .await
        .map_err(|e| {
            Failure::new(
                ExitCode::Other,
                format!("the MCP session could not start: {e}"),
            )
        })?;
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

/// The embedded database belongs to this user: bring it up to date. A shared PostgreSQL is
/// migrated deliberately by someone allowed to run DDL, never by each client process.
async fn prepare_schema(store: &dyn MemoryStore) -> Result<(), Failure> {
    match store.backend() {
        Backend::Sqlite => {
            let status = store.schema_status().await.map_err(database_failure)?;
            if !status.is_current() {
                store.migrate().await.map_err(database_failure)?;
            }
            Ok(())
        }
        Backend::Postgres => {
            let status = store.schema_status().await.map_err(database_failure)?;
            if !status.is_current() {
                let pending = status.pending().len();
                let all = status.migrations.len();
                let what = if pending == all {
                    "has no mem0-mcp schema yet".to_string()
                } else {
                    format!("is missing {pending} of {all} migrations")
                };
                return Err(Failure::new(
                    ExitCode::Database,
                    format!(
                        "the database {what}: run `mem0-mcp migrate` with the same settings (as a user allowed to create tables), then restart the client"
                    ),
                ));
            }
            Ok(())
        }
    }
}

/// Who the server acts for: `MEM0_USER_ID`, else the OS user name.
fn acting_principal(settings: &Settings, backend: Backend) -> Principal {
    let user_id = settings.user_id.clone().unwrap_or_else(os_user_name);
    let permissions = match (&settings.database, backend) {
        // The embedded file is readable by its owner only: they may do everything.
        (DatabaseTarget::Sqlite(_), _) => Permissions::ALL,
        _ => Permissions::READ_WRITE,
    };
    Principal {
        user_id,
        permissions,
        token_display_id: None,
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
