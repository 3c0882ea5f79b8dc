//! `mem0-mcp serve --http`: the team server. Opens one pool of `MEM0_HTTP_POOL_SIZE`
//! connections for all requests, makes sure the schema is current, and serves MCP over
//! Streamable HTTP ([`crate::mcp::http`]) until SIGTERM / SIGINT. It has no identity of its own:
//! every request authenticates.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{ExitCode, Failure};
use crate::access::{Permissions, Principal};
use crate::auth::request::RequestAuthenticator;
use crate::auth::{self, AuditLog};
use crate::mcp::http::{self, Gate, HttpHandler, Listen};
use crate::mcp::{MemoryServer, ScopePlan};
use crate::project::ProjectMode;
use crate::service::{MemoryService, ServiceLimits};
use crate::settings::Settings;
use crate::store;

pub async fn run(listen: Option<&str>, settings: &Settings) -> Result<(), Failure> {
    let remember_for =
        auth::revocation::recheck_interval(std::env::var("MEM0_AUTH_RECHECK_SECS").ok().as_deref())
            .map_err(|message| Failure::new(ExitCode::Usage, message))?;
    let address = listen_address(listen, settings).await?;
    let stores = store::open_all_pooled(
        &settings.database,
        settings.timeout,
        Some(settings.http_pool_size),
    )
    .await?;
    store::ensure_current(stores.memories.as_ref()).await?;
    let semantic = Arc::new(crate::service::Semantic::new(
        settings.embeddings.provider.clone(),
    ));
    // No handshake to wait for here: the model loads while the listener starts.
    semantic.warm();
    let service = Arc::new(
        MemoryService::new(
            stores.memories.clone(),
            ServiceLimits::from_settings(settings),
        )
        .with_semantic(semantic),
    );
    let prototype = |permissions| {
        let principal = Principal {
            user_id: String::new(),
            permissions,
            token_display_id: None,
        };
        let plan = ScopePlan {
            mode: settings.project_mode,
            user_id: String::new(),
            project_id: settings.project_id.clone(),
            project_dir: None,
        };
        MemoryServer::new(service.clone(), principal, plan, settings.timeout)
            .with_audit(AuditLog::new(stores.tokens.clone()))
    };
    let handler = HttpHandler::new(
        prototype(Permissions::ALL),
        prototype(Permissions::READ_ONLY),
    );
    let scheme = if settings.http_tls.is_some() {
        "https"
    } else {
        "http"
    };
    let loopback = address.ip().is_loopback();
    if !loopback && settings.http_tls.is_none() {
        tracing::warn!(
            "listening on {address} without TLS: tokens cross the network in clear text; set MEM0_HTTP_TLS_CERT and MEM0_HTTP_TLS_KEY, or listen on 127.0.0.1 behind a TLS reverse proxy"
        );
    }
    let gate = Arc::new(Gate {
        auth: RequestAuthenticator::new(
            stores.tokens.clone(),
            settings.jwt_secret.clone(),
            settings.project_mode == ProjectMode::Global,
            remember_for,
        ),
        loopback,
        allowed_hosts: lowercase(&settings.http_allowed_hosts),
        trusted_proxies: settings.http_trusted_proxies.clone(),
        allowed_origins: lowercase(&settings.http_allowed_origins)
            .into_iter()
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect(),
        scheme,
        mode: settings.project_mode,
        project_id: settings.project_id.clone(),
    });
    let app = http::router(handler, gate, stores.memories.clone(), settings.timeout);
    tracing::info!(
        database = %settings.database.describe(),
        project.mode = settings.project_mode.as_str(),
        pool_size = settings.http_pool_size,
        "serving MCP over HTTP at {scheme}://{address}/mcp"
    );
    let listen = Listen {
        address,
        tls: settings.http_tls.clone(),
        timeout: settings.timeout,
    };
    http::serve(app, &listen, crate::mcp::shutdown::signal()).await?;
    tracing::info!("the HTTP server stopped");
    Ok(())
}

fn lowercase(items: &[String]) -> Vec<String> {
    items.iter().map(|i| i.to_ascii_lowercase()).collect()
}

/// `--listen HOST:PORT`, else `server.host` and `server.port`; a host name is resolved.
async fn listen_address(listen: Option<&str>, settings: &Settings) -> Result<SocketAddr, Failure> {
    let (text, origin) = match listen {
        Some(listen) => (listen.trim().to_owned(), "--listen"),
        None if settings.http_host.contains(':') && !settings.http_host.starts_with('[') => (
            format!("[{}]:{}", settings.http_host, settings.http_port),
            "MEM0_HTTP_HOST / MEM0_HTTP_PORT",
        ),
        None => (
            format!("{}:{}", settings.http_host, settings.http_port),
            "MEM0_HTTP_HOST / MEM0_HTTP_PORT",
        ),
    };
    let invalid = |why: String| {
        Failure::new(
            ExitCode::Usage,
            format!(
                "{origin} gives '{text}', which is not an address to listen on ({why}): use HOST:PORT, e.g. 127.0.0.1:13370 or 0.0.0.0:8080"
            ),
        )
    };
    let mut found = tokio::net::lookup_host(text.as_str())
        .await
        .map_err(|e| invalid(e.to_string()))?;
    found
        .next()
        .ok_or_else(|| invalid("the host name resolves to no address".into()))
}
