//! MCP over Streamable HTTP (`serve --http`): rmcp's stateless server transport with JSON
//! responses at `/mcp` and `/mcp/`, behind the [`gate`] (Host / Origin, authentication, scope),
//! plus `GET /healthz` (the process serves) and `GET /readyz` (the database answers), which
//! need no token and show only status and version.
//!
//! Limits: request bodies over [`MAX_BODY_BYTES`] get 413; a request taking longer than the
//! tool timeout plus [`TIMEOUT_MARGIN`] gets 504. TLS from PEM files when configured. On
//! SIGTERM / SIGINT the server stops accepting, lets requests in flight finish for up to the
//! tool timeout, and returns.

mod forwarded;
pub mod gate;
mod handler;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use gate::{Admitted, Gate};
pub use handler::HttpHandler;

use crate::problem::Problem;
use crate::store::MemoryStore;

/// Largest request body accepted (4 MiB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Time a request gets beyond the tool timeout before it is answered with 504.
pub const TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// How to listen.
#[derive(Debug, Clone)]
pub struct Listen {
    pub address: SocketAddr,
    /// Certificate (chain) and private key, PEM.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The tool timeout: also how long shutdown waits for requests in flight.
    pub timeout: Duration,
}

/// The routes and layers of the server.
pub fn router(
    handler: HttpHandler,
    gate: Arc<Gate>,
    store: Arc<dyn MemoryStore>,
    timeout: Duration,
) -> Router {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        // The gate checks Host and Origin itself (it knows the server's own origin).
        .disable_allowed_hosts();
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let mcp_routes = Router::new()
        .route_service("/mcp", mcp.clone())
        .route_service("/mcp/", mcp)
        .layer(axum::middleware::from_fn_with_state(gate, gate::admit));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(move || readyz(store.clone())))
        .merge(mcp_routes)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            timeout + TIMEOUT_MARGIN,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
}

async fn healthz() -> Response {
    status(StatusCode::OK, "ok")
}

async fn readyz(store: Arc<dyn MemoryStore>) -> Response {
    match tokio::time::timeout(Duration::from_secs(3), store.ping()).await {
        Ok(Ok(())) => status(StatusCode::OK, "ready"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            status(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("readiness check: the database did not answer within 3 s");
            status(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

fn status(code: StatusCode, text: &str) -> Response {
    let body = serde_json::json!({ "status": text, "version": env!("CARGO_PKG_VERSION") });
    (
        code,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Serves `app` until `shutdown` completes, then drains for up to the tool timeout.
///
/// Errors: the address cannot be bound, or the TLS files cannot be read.
pub async fn serve(
    app: Router,
    listen: &Listen,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Problem> {
    let handle = axum_server::Handle::<SocketAddr>::new();
    let drain = listen.timeout;
    let on_signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("signal received; finishing requests in flight");
        on_signal.graceful_shutdown(Some(drain));
    });
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let bind_problem = |e: std::io::Error| {
        Problem::new(
            format!("cannot listen on {}: {e}", listen.address),
            "choose another address with --listen HOST:PORT (or MEM0_HTTP_HOST / MEM0_HTTP_PORT), or stop the process using it",
        )
    };
    match &listen.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| {
                    Problem::new(
                        format!(
                            "cannot use the TLS certificate {} with the key {}: {e}",
                            cert.display(),
                            key.display()
                        ),
                        "set MEM0_HTTP_TLS_CERT and MEM0_HTTP_TLS_KEY to readable PEM files of a certificate (chain) and its private key",
                    )
                })?;
            axum_server::bind_rustls(listen.address, config)
                .handle(handle)
                .serve(service)
                .await
                .map_err(bind_problem)
        }
        None => axum_server::bind(listen.address)
            .handle(handle)
            .serve(service)
            .await
            .map_err(bind_problem),
    }
}
