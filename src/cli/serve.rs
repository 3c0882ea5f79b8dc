//! `mem0-mcp serve` (and plain `mem0-mcp`): open the store, make sure its schema is current,
//! authenticate (always on PostgreSQL; on the embedded database when a token is given), and
//! serve MCP over stdin/stdout until the client closes stdin or a signal arrives. Nothing here
//! writes to stdout except the MCP transport. With `--http` the team server runs instead
//! ([`super::serve_http`]); with `MEM0_SERVER_URL` set, stdio is forwarded to a team server
//! ([`super::bridge`]).

use std::sync::Arc;

use clap::Args;
use rmcp::ServiceExt;

use super::{ExitCode, Failure};
use crate::auth::acting::acting_principal;
use crate::auth::{self, AuditLog, Credentials};
use crate::mcp::{MemoryServer, ScopePlan};
use crate::service::{MemoryService, Semantic, ServiceLimits};
use crate::settings::Settings;
use crate::store;

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Serve MCP over Streamable HTTP at /mcp (the team server) instead of stdio; every
    /// request authenticates with X-MCP-Token / Authorization: Bearer. Behind a reverse proxy,
    /// MEM0_HTTP_TRUSTED_PROXIES (addresses or CIDR networks) names the proxies whose
    /// X-Forwarded-For gives the client address
    #[arg(long)]
    pub http: bool,
    /// The address to listen on with --http [default: server.host:server.port, 127.0.0.1:13370]
    #[arg(long, value_name = "HOST:PORT", requires = "http")]
    pub listen: Option<String>,
}

pub async fn run(args: &ServeArgs, settings: &Settings) -> Result<(), Failure> {
    if args.http {
        return super::serve_http::run(args.listen.as_deref(), settings).await;
    }
    if settings.server_url.is_some() {
        return super::bridge::run(settings).await;
    }
    // Read once at startup like every other setting; tests shorten it.
    let recheck_every =
        auth::revocation::recheck_interval(std::env::var("MEM0_AUTH_RECHECK_SECS").ok().as_deref())
            .map_err(|message| Failure::new(ExitCode::Usage, message))?;
    let stores = store::open_all_lazy(&settings.database, settings.timeout).await?;
    store::ensure_current(stores.memories.as_ref()).await?;
    let acting = acting_principal(
        stores.memories.backend(),
        stores.tokens.as_ref(),
        Credentials::from_settings(settings),
        settings.project_mode,
    )
    .await?;
    let (mode, project_id) = acting.project(settings.project_mode, settings.project_id.clone());
    let principal = acting.principal;
    let semantic = Arc::new(Semantic::new(settings.embeddings.provider.clone()));
    let service = Arc::new(
        MemoryService::new(
            stores.memories.clone(),
            ServiceLimits::from_settings(settings),
        )
        .with_semantic(semantic.clone()),
    );
    let plan = ScopePlan {
        mode,
        user_id: principal.user_id.clone(),
        project_id,
        project_dir: settings.project_dir.clone(),
    };
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
    let (transport, flushed) = crate::mcp::stdio::stdio().into_sdk();
    let running = match server.serve(transport).await {
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
    // The handshake is answered: now the embedding model may take its time to load.
    semantic.warm();
    let cancel = running.cancellation_token();
    tokio::spawn(async move {
        crate::mcp::shutdown::signal().await;
        tracing::info!("signal received; shutting down");
        cancel.cancel();
    });
    let reason = running
        .waiting()
        .await
        .map_err(|e| Failure::new(ExitCode::Other, format!("the MCP session failed: {e}")))?;
    // Every response written must reach the client before the process exits.
    let _ = flushed.await;
    tracing::info!(?reason, "MCP session ended");
    Ok(())
}
