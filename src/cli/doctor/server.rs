//! The team-server checks, when `MEM0_SERVER_URL` is set (this machine is a bridge to a team
//! server and needs no database): the server answers `/healthz` (over verified TLS for https),
//! accepts the token, and its clock agrees with this one (minted tokens expire by the clock).

use super::check::Check;
use crate::mcp::bridge::{self, BridgeConfig};
use crate::settings::Settings;

/// Clocks further apart than this get a warning.
const SKEW_WARN_SECS: i64 = 60;

/// The checks of the server at `url` (see the module docs).
pub async fn server_checks(settings: &Settings, url: &str) -> Vec<Check> {
    let Some(token) = settings.token.clone() else {
        return vec![Check::fail(
            "team server",
            format!("MEM0_SERVER_URL is {url}, but MEM0_TOKEN is not set"),
            "ask the server's operator for a token (`mem0-mcp token create`) and set MEM0_TOKEN (or MEM0_TOKEN_FILE, or `mem0-mcp secret set token`)",
        )];
    };
    let config = BridgeConfig {
        url: url.to_owned(),
        token,
        user_id: settings.user_id.clone(),
        project: None,
        roots: None,
        ca: settings.server_ca.clone(),
        timeout: settings.timeout,
    };
    let probe = match bridge::probe(config).await {
        Ok(probe) => probe,
        Err(e) => return vec![Check::fail("team server", e.to_string(), "")],
    };
    let mut checks = Vec::new();
    let tls = url.to_ascii_lowercase().starts_with("https://");
    match &probe.health {
        Ok(version) if tls => checks.push(Check::pass(
            "team server",
            format!("{url} answers (mem0-mcp {version}, TLS certificate verified)"),
        )),
        Ok(version) => checks.push(Check::warn(
            "team server",
            format!("{url} answers (mem0-mcp {version}) without TLS: the token crosses the network in clear text"),
            "serve it over https (MEM0_HTTP_TLS_CERT / MEM0_HTTP_TLS_KEY, or a TLS reverse proxy) unless it is on this machine",
        )),
        Err(why) => checks.push(Check::fail(
            "team server",
            why.clone(),
            "check MEM0_SERVER_URL (it ends in /mcp/), the network, MEM0_SERVER_CA for a private CA, and that `mem0-mcp serve --http` runs there",
        )),
    }
    match &probe.token {
        Some(Ok(())) => checks.push(Check::pass(
            "team server token",
            "the server accepts the token",
        )),
        Some(Err(why)) => checks.push(Check::fail(
            "team server token",
            why.clone(),
            "ask the server's operator for a new token, or fix MEM0_USER_ID",
        )),
        None => {}
    }
    match probe.clock_skew_secs {
        Some(skew) if skew.abs() > SKEW_WARN_SECS => checks.push(Check::warn(
            "clock",
            format!("the server's clock is {skew} s from this machine's"),
            "synchronise both clocks (NTP): minted tokens expire by the clock",
        )),
        Some(skew) => checks.push(Check::pass(
            "clock",
            format!("within {} s of the server's", skew.abs().max(1)),
        )),
        None => {}
    }
    checks
}
