//! The gate every `/mcp` request passes before rmcp sees it: the `Host` and `Origin` checks
//! against DNS rebinding (403), authentication by `X-MCP-Token` / `Authorization: Bearer` and
//! `X-MCP-UserID` (401, 429 when an address fails too often, 503 when the token tables cannot
//! be read; the address is the peer's, or behind a trusted proxy the forwarded one, see
//! [`super::forwarded`]), and the scope from `X-MCP-Project` (400 when it is not a valid
//! project id). An
//! admitted request carries [`Admitted`] in its extensions.
//!
//! Refusals are JSON-RPC error objects (id null: the body is not read before the gate) with
//! the codes below, and never quote a header's value.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::access::Principal;
use crate::auth::request::{Caller, Refusal, RequestAuthenticator};
use crate::memory::{GLOBAL_PROJECT, Scope};
use crate::project::ProjectMode;

/// JSON-RPC error code of a 401: the credentials were refused.
pub const UNAUTHORIZED: i64 = -32010;
/// JSON-RPC error code of a 403: `Host` or `Origin` not allowed.
pub const FORBIDDEN: i64 = -32011;
/// JSON-RPC error code of a 429: too many refused requests from this address.
pub const TOO_MANY_FAILURES: i64 = -32012;
/// JSON-RPC error code of a 503: the token tables cannot be read.
pub const UNAVAILABLE: i64 = -32013;
/// JSON-RPC error code of a 400: a header that is not valid.
pub const BAD_HEADER: i64 = -32600;

/// The header carrying the token.
pub const TOKEN_HEADER: &str = "x-mcp-token";
/// The header carrying the user id.
pub const USER_HEADER: &str = "x-mcp-userid";
/// The header carrying the project.
pub const PROJECT_HEADER: &str = "x-mcp-project";

/// Who a request acts for and where.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub principal: Principal,
    pub scope: Scope,
}

/// Everything the gate decides with.
#[derive(Debug)]
pub struct Gate {
    pub auth: RequestAuthenticator,
    /// Whether the server listens on a loopback address only.
    pub loopback: bool,
    /// `MEM0_HTTP_ALLOWED_HOSTS`, lower case.
    pub allowed_hosts: Vec<String>,
    /// `MEM0_HTTP_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `MEM0_HTTP_ALLOWED_ORIGINS`, lower case, without a trailing `/`.
    pub allowed_origins: Vec<String>,
    /// `https` with TLS, else `http`: the scheme of the server's own origin.
    pub scheme: &'static str,
    /// The server's `PROJECT_ID_MODE`.
    pub mode: ProjectMode,
    /// The server's `PROJECT_ID`.
    pub project_id: Option<String>,
}

/// The middleware (see the module docs).
pub async fn admit(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let client = super::forwarded::client_address(peer.ip(), headers, &gate.trusted_proxies);
    if let Err((status, code, message)) = gate.check_host_and_origin(headers) {
        return refusal(status, code, message);
    }
    let (token, user) = match credentials(headers) {
        Ok(found) => found,
        Err(message) => {
            let claimed = header_text(headers, USER_HEADER)
                .ok()
                .flatten()
                .map(str::to_owned);
            let refused = gate
                .auth
                .refuse_unreadable(client, claimed.as_deref(), message)
                .await;
            return answer_refusal(refused, client);
        }
    };
    let project = match header_text(headers, PROJECT_HEADER) {
        Ok(project) => project.map(str::trim).filter(|p| !p.is_empty()),
        Err(()) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                BAD_HEADER,
                "X-MCP-Project is not text: send the project id in ASCII",
            );
        }
    };
    if let Some(project) = project
        && let Err(problem) = crate::project::validate_project_id(project)
    {
        return refusal(
            StatusCode::BAD_REQUEST,
            BAD_HEADER,
            &format!("X-MCP-Project: {}", problem.sentence()),
        );
    }
    let project = project.map(str::to_owned);
    let caller = match gate
        .auth
        .authenticate(client, token.as_deref(), user.as_deref())
        .await
    {
        Ok(caller) => caller,
        Err(refused) => return answer_refusal(refused, client),
    };
    let scope = gate.scope(&caller, project);
    request.extensions_mut().insert(Admitted {
        principal: caller.principal,
        scope,
    });
    next.run(request).await
}

/// The HTTP answer to a refusal: 401, 429 with `Retry-After`, or 503.
fn answer_refusal(refused: Refusal, client: IpAddr) -> Response {
    match refused {
        Refusal::Refused(message) => refusal(StatusCode::UNAUTHORIZED, UNAUTHORIZED, &message),
        Refusal::Limited { retry_after_secs } => {
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                TOO_MANY_FAILURES,
                &format!(
                    "too many refused requests from {client}: try again in {retry_after_secs} seconds with a valid token"
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Refusal::Unavailable(e) => {
            tracing::error!(error = %e, "could not read the token tables");
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                UNAVAILABLE,
                "the server cannot reach its database to check the token; try again shortly (GET /readyz shows when it is back)",
            )
        }
    }
}

impl Gate {
    /// The scope of an admitted request: a project-limited minted token's project; in global
    /// mode the shared pool; else `X-MCP-Project`, else the server's `PROJECT_ID`, else
    /// `default`.
    fn scope(&self, caller: &Caller, project: Option<String>) -> Scope {
        let (mode, project_id) = match (&caller.project_limit, self.mode) {
            (Some(limit), _) => (ProjectMode::Manual, limit.clone()),
            (None, ProjectMode::Global) => (ProjectMode::Global, GLOBAL_PROJECT.to_owned()),
            (None, mode) => (
                mode,
                project
                    .or_else(|| self.project_id.clone())
                    .unwrap_or_else(|| "default".to_owned()),
            ),
        };
        Scope {
            user_id: caller.principal.user_id.clone(),
            project_id,
            mode,
        }
    }

    fn check_host_and_origin(
        &self,
        headers: &HeaderMap,
    ) -> Result<(), (StatusCode, i64, &'static str)> {
        let host = match header_text(headers, header::HOST.as_str()) {
            Ok(Some(host)) => host.trim().to_ascii_lowercase(),
            _ => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    BAD_HEADER,
                    "the request has no usable Host header",
                ));
            }
        };
        if !self.host_allowed(hostname(&host)) {
            tracing::warn!(
                "refused a request for a Host name this server does not serve (possible DNS rebinding)"
            );
            return Err((
                StatusCode::FORBIDDEN,
                FORBIDDEN,
                "the Host header names a host this server does not serve: a reverse proxy's public name must be listed in MEM0_HTTP_ALLOWED_HOSTS",
            ));
        }
        let origin = match header_text(headers, header::ORIGIN.as_str()) {
            Ok(None) => return Ok(()),
            Ok(Some(origin)) => origin.trim().trim_end_matches('/').to_ascii_lowercase(),
            Err(()) => String::new(),
        };
        let own = format!("{}://{host}", self.scheme);
        if origin == own || self.allowed_origins.contains(&origin) {
            return Ok(());
        }
        tracing::warn!("refused a request from a browser origin that is not allowed");
        Err((
            StatusCode::FORBIDDEN,
            FORBIDDEN,
            "the request's Origin is not allowed: a web page may use this server only if its origin is listed in MEM0_HTTP_ALLOWED_ORIGINS",
        ))
    }

    fn host_allowed(&self, name: &str) -> bool {
        let loopback = name == "localhost"
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback || self.allowed_hosts.iter().any(|h| h == name) {
            return true;
        }
        !self.loopback && self.allowed_hosts.is_empty()
    }
}

/// The host name of a `Host` value, without the port.
fn hostname(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(name, _)| &name[1..]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ()> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| ()),
    }
}

type Credentials = (Option<String>, Option<String>);

/// The token (from `X-MCP-Token` or `Authorization: Bearer`) and the user id, or why they
/// cannot be used.
fn credentials(headers: &HeaderMap) -> Result<Credentials, String> {
    let unreadable = |name: &str| {
        format!(
            "authentication failed (invalid token): the {name} header is not text; copy the token again from `mem0-mcp token create`"
        )
    };
    let from_header = header_text(headers, TOKEN_HEADER)
        .map_err(|_| unreadable("X-MCP-Token"))?
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let bearer = match header_text(headers, header::AUTHORIZATION.as_str())
        .map_err(|_| unreadable("Authorization"))?
    {
        None => None,
        Some(value) => {
            let value = value.trim();
            match value.split_once(' ') {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
                    Some(rest.trim()).filter(|t| !t.is_empty())
                }
                _ => {
                    return Err("authentication failed (invalid token): the Authorization header is not `Bearer TOKEN`; send `Authorization: Bearer` followed by the token".into());
                }
            }
        }
    };
    let token = match (from_header, bearer) {
        (Some(a), Some(b)) if a != b => {
            return Err("authentication failed (invalid token): X-MCP-Token and Authorization: Bearer carry different tokens; send one of them".into());
        }
        (a, b) => a.or(b).map(str::to_owned),
    };
    let user = header_text(headers, USER_HEADER)
        .map_err(|_| "authentication failed (invalid user id): the X-MCP-UserID header is not text; send the user id as plain ASCII text".to_string())?
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    Ok((token, user))
}

/// A JSON-RPC error response with this HTTP status.
pub fn refusal(status: StatusCode, code: i64, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    });
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"mem0-mcp\""),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port() {
        assert_eq!(hostname("localhost:8080"), "localhost");
        assert_eq!(hostname("[::1]:8080"), "::1");
        assert_eq!(hostname("[::1]"), "::1");
        assert_eq!(hostname("example.com"), "example.com");
    }

    #[test]
    fn tokens_come_from_either_header_and_must_agree() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(credentials(&headers).unwrap().0.as_deref(), Some("abc"));
        headers.insert(TOKEN_HEADER, HeaderValue::from_static("abc"));
        assert_eq!(credentials(&headers).unwrap().0.as_deref(), Some("abc"));
        headers.insert(TOKEN_HEADER, HeaderValue::from_static("xyz"));
        assert!(
            credentials(&headers)
                .unwrap_err()
                .contains("different tokens")
        );
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert!(credentials(&headers).unwrap_err().contains("Bearer TOKEN"));
    }
}
