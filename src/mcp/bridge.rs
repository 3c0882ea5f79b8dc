//! The stdio bridge (`MEM0_SERVER_URL`): a command-launched client (Claude Desktop) talks MCP
//! over stdio to this process, which forwards every message to the team server as one HTTP
//! POST with `X-MCP-Token`, `X-MCP-UserID` and the project derived here (`X-MCP-Project`), and
//! writes each answer back as one line. It holds no database settings and no state but the
//! negotiated protocol version (sent as `MCP-Protocol-Version`).
//!
//! At startup it sends one `ping` to check the token: [`BridgeError::Refused`] when the server
//! refuses it, [`BridgeError::Unreachable`] when the server cannot be reached or is not a
//! team server. A line that is not JSON is answered with a parse error, a request the server
//! cannot answer with a JSON-RPC error naming the cause; a notification is forwarded and
//! needs no answer.
//!
//! In `auto` mode without `PROJECT_DIR` the project is derived as a local session derives it:
//! at the first tool call the bridge asks a client that declared MCP roots for them
//! (`roots/list`, answered within 3 s) and uses the first `file://` root, else the working
//! directory ([`ScopePlan`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::mcp::{ScopePlan, path_of_file_uri};
use crate::settings::Secret;

/// The id of the bridge's own `roots/list` request to the client.
const ROOTS_REQUEST_ID: &str = "mem0-bridge-roots";

/// The first protocol version without roots (the local server stops asking there too).
const PROTOCOL_WITHOUT_ROOTS: &str = "2026-07-28";

/// Where and as whom to forward.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// The team server's MCP endpoint, e.g. `https://mem0.example.com/mcp/`.
    pub url: String,
    pub token: Secret,
    pub user_id: Option<String>,
    /// The project derived locally, sent as `X-MCP-Project` (none in global mode).
    pub project: Option<String>,
    /// `auto` mode without `PROJECT_DIR`: derive the project with this plan from the client's
    /// first root, else the working directory, at the first tool call (`project` is then not
    /// used).
    pub roots: Option<ScopePlan>,
    /// A PEM file of extra trusted roots (`MEM0_SERVER_CA`).
    pub ca: Option<PathBuf>,
    /// How long one request may take.
    pub timeout: Duration,
}

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The server refused the token (exit 3).
    #[error("{0}")]
    Refused(String),
    /// The server cannot be reached, or is not a team server (exit 4).
    #[error("{0}")]
    Unreachable(String),
    /// The bridge's own configuration cannot be used (exit 2).
    #[error("{0}")]
    Config(String),
}

/// What one forwarded message came back as.
enum Answer {
    /// JSON-RPC messages to write to stdout.
    Messages(Vec<Value>),
    /// The server refused the request: HTTP status and its message.
    Refused(u16, String),
}

#[derive(Debug)]
struct Forwarder {
    client: reqwest::Client,
    config: BridgeConfig,
    protocol: RwLock<Option<String>>,
    /// The client declared roots in `initialize` (with a protocol that still has them).
    client_has_roots: AtomicBool,
    /// The project resolved from [`BridgeConfig::roots`].
    resolved: OnceCell<String>,
    /// Waiting for the client's answer to the bridge's `roots/list`.
    roots_reply: Mutex<Option<oneshot::Sender<Value>>>,
}

/// Runs the bridge until stdin closes.
pub async fn run(config: BridgeConfig) -> Result<(), BridgeError> {
    let forwarder = Arc::new(Forwarder::new(config)?);
    forwarder.check_token().await?;
    tracing::info!(server = %forwarder.config.url, "forwarding MCP over stdio to the team server");
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = out_rx.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err()
                || stdout.write_all(b"\n").await.is_err()
                || stdout.flush().await.is_err()
            {
                break;
            }
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = crate::mcp::shutdown::signal() => break,
        };
        let Ok(Some(line)) = line else { break };
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let message: Value = match serde_json::from_str(line) {
            Ok(message) => message,
            Err(e) => {
                let _ = out_tx.send(error_line(
                    Value::Null,
                    -32700,
                    &format!("Parse error: the message is not valid JSON ({e}); send one JSON-RPC message per line"),
                ));
                continue;
            }
        };
        if forwarder.is_roots_reply(&message) {
            continue;
        }
        let forwarder = forwarder.clone();
        let out = out_tx.clone();
        in_flight.spawn(async move { forwarder.forward(message, &out).await });
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
    drop(out_tx);
    let _ = writer.await;
    Ok(())
}

/// What `doctor` learns about a team server, without changing anything there (a refused
/// token is audited by the server like any refusal).
#[derive(Debug)]
pub struct ServerProbe {
    /// `GET /healthz`: the server's version, or why it cannot be reached.
    pub health: Result<String, String>,
    /// The token check: `None` when the server was not reached.
    pub token: Option<Result<(), String>>,
    /// The server's clock minus this one's, in seconds (from its `Date` header).
    pub clock_skew_secs: Option<i64>,
}

/// Checks the team server in `config`: reachable (with TLS verified for https), the token
/// accepted, the clocks in step.
pub async fn probe(config: BridgeConfig) -> Result<ServerProbe, BridgeError> {
    let forwarder = Forwarder::new(config)?;
    let base = forwarder.config.url.trim_end_matches('/');
    let base = base.strip_suffix("/mcp").unwrap_or(base);
    let health_url = format!("{base}/healthz");
    let response = match forwarder.client.get(&health_url).send().await {
        Ok(response) => response,
        Err(e) => {
            return Ok(ServerProbe {
                health: Err(format!("{health_url} cannot be reached ({})", describe(&e))),
                token: None,
                clock_skew_secs: None,
            });
        }
    };
    let clock_skew_secs = response
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
        .map(|at| (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds());
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let health = match body["version"].as_str() {
        Some(version) if status.is_success() => Ok(version.to_owned()),
        _ => Err(format!(
            "{health_url} answered HTTP {status}, not like a mem0-mcp team server"
        )),
    };
    let token = match &health {
        Ok(_) => Some(forwarder.check_token().await.map_err(|e| e.to_string())),
        Err(_) => None,
    };
    Ok(ServerProbe {
        health,
        token,
        clock_skew_secs,
    })
}

impl Forwarder {
    fn new(config: BridgeConfig) -> Result<Self, BridgeError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout + Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mem0-mcp-bridge/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &config.ca {
            let pem = std::fs::read(path).map_err(|e| {
                BridgeError::Config(format!(
                    "MEM0_SERVER_CA {} cannot be read ({e}): set it to a PEM file of the CA certificates that signed the team server's certificate",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                BridgeError::Config(format!(
                    "MEM0_SERVER_CA {} is not a PEM file of certificates ({e}): set it to the CA certificate in PEM form",
                    path.display()
                ))
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| BridgeError::Config(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Forwarder {
            client,
            config,
            protocol: RwLock::new(None),
            client_has_roots: AtomicBool::new(false),
            resolved: OnceCell::new(),
            roots_reply: Mutex::new(None),
        })
    }

    /// Takes the client's answer to the bridge's own `roots/list` (it is not forwarded).
    fn is_roots_reply(&self, message: &Value) -> bool {
        if message.get("method").is_some()
            || message.get("id").and_then(Value::as_str) != Some(ROOTS_REQUEST_ID)
        {
            return false;
        }
        if let Some(waiting) = self.roots_reply.lock().ok().and_then(|mut w| w.take()) {
            let _ = waiting.send(message.clone());
        }
        true
    }

    /// Notes from the client's `initialize` whether it can be asked for roots.
    fn note_client(&self, message: &Value) {
        let params = &message["params"];
        let roots = params["capabilities"]["roots"].is_object();
        let version = params["protocolVersion"].as_str().unwrap_or_default();
        self.client_has_roots
            .store(roots && version < PROTOCOL_WITHOUT_ROOTS, Ordering::Relaxed);
    }

    /// The project to send with `method`: in `auto` mode without `PROJECT_DIR` resolved at the
    /// first request that is not `initialize` or `ping` (and not sent before).
    async fn project(&self, method: &str, out: &mpsc::UnboundedSender<String>) -> Option<String> {
        let Some(plan) = &self.config.roots else {
            return self.config.project.clone();
        };
        if matches!(method, "initialize" | "ping") || method.starts_with("notifications/") {
            return self.resolved.get().cloned();
        }
        let project = self
            .resolved
            .get_or_init(|| async {
                match self.first_client_root(out).await {
                    Some(dir) => plan.from_dir(&dir).project_id,
                    None => plan.from_working_dir().project_id,
                }
            })
            .await;
        Some(project.clone())
    }

    /// Asks the client for its roots: the first `file://` root, if it answers within 3 s.
    async fn first_client_root(&self, out: &mpsc::UnboundedSender<String>) -> Option<PathBuf> {
        if !self.client_has_roots.load(Ordering::Relaxed) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiting) = self.roots_reply.lock() {
            *waiting = Some(tx);
        }
        let ask =
            serde_json::json!({"jsonrpc": "2.0", "id": ROOTS_REQUEST_ID, "method": "roots/list"});
        out.send(ask.to_string()).ok()?;
        let reply = tokio::time::timeout(Duration::from_secs(3), rx)
            .await
            .map_err(|_| {
                tracing::warn!(
                    "the client did not answer roots/list within 3 s; using the working directory"
                )
            })
            .ok()?
            .ok()?;
        if let Some(error) = reply.get("error") {
            tracing::warn!(error = %error, "roots/list failed; using the working directory");
            return None;
        }
        reply["result"]["roots"]
            .as_array()?
            .iter()
            .find_map(|root| root["uri"].as_str().and_then(path_of_file_uri))
    }

    async fn post(
        &self,
        message: &Value,
        project: Option<&str>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self
            .client
            .post(&self.config.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("x-mcp-token", self.config.token.expose());
        if let Some(user) = &self.config.user_id {
            request = request.header("x-mcp-userid", user);
        }
        if let Some(project) = project {
            request = request.header("x-mcp-project", project);
        }
        let protocol = self.protocol.read().ok().and_then(|p| p.clone());
        if let Some(version) = protocol {
            request = request.header("mcp-protocol-version", version);
        }
        request.body(message.to_string()).send().await
    }

    /// The startup check: one `ping` with the token.
    async fn check_token(&self) -> Result<(), BridgeError> {
        let url = &self.config.url;
        let ping = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "ping"});
        let response = self.post(&ping, self.config.project.as_deref()).await.map_err(|e| {
            BridgeError::Unreachable(format!(
                "the team server at {url} cannot be reached ({}): check MEM0_SERVER_URL, the network, and that `mem0-mcp serve --http` runs there",
                describe(&e)
            ))
        })?;
        match self.answer(response).await {
            Ok(Answer::Messages(_)) => Ok(()),
            Ok(Answer::Refused(401, message)) => Err(BridgeError::Refused(format!(
                "the team server at {url} refused the token: {message}"
            ))),
            Ok(Answer::Refused(status, message)) => Err(BridgeError::Unreachable(format!(
                "the team server at {url} answered HTTP {status}: {message}"
            ))),
            Err(why) => Err(BridgeError::Unreachable(format!(
                "{url} does not answer like a mem0-mcp team server ({why}): check that MEM0_SERVER_URL ends in /mcp/"
            ))),
        }
    }

    /// Forwards one message and writes whatever answers it.
    async fn forward(&self, message: Value, out: &mpsc::UnboundedSender<String>) {
        let id = message.get("id").cloned();
        let method = message
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let is_request = id.is_some() && !method.is_empty();
        if method == "initialize" {
            self.note_client(&message);
        }
        let project = self.project(method, out).await;
        let answer = match self.post(&message, project.as_deref()).await {
            Ok(response) => self.answer(response).await,
            Err(e) => Err(format!(
                "the team server at {} cannot be reached ({}); try again",
                self.config.url,
                describe(&e)
            )),
        };
        match answer {
            Ok(Answer::Messages(messages)) => {
                for reply in messages {
                    self.note_protocol(&reply);
                    let _ = out.send(reply.to_string());
                }
            }
            Ok(Answer::Refused(status, text)) if is_request => {
                let code = refused_code(status);
                let _ = out.send(error_line(id.unwrap_or(Value::Null), code, &text));
            }
            Ok(Answer::Refused(status, text)) => {
                tracing::warn!(status, "the team server refused a notification: {text}");
            }
            Err(why) if is_request => {
                let _ = out.send(error_line(id.unwrap_or(Value::Null), -32603, &why));
            }
            Err(why) => tracing::warn!("a notification was not delivered: {why}"),
        }
    }

    /// Remembers the protocol version an `initialize` result negotiated.
    fn note_protocol(&self, reply: &Value) {
        if let Some(version) = reply
            .get("result")
            .and_then(|r| r.get("protocolVersion"))
            .and_then(Value::as_str)
            && let Ok(mut protocol) = self.protocol.write()
        {
            *protocol = Some(version.to_owned());
        }
    }

    async fn answer(&self, response: reqwest::Response) -> Result<Answer, String> {
        let status = response.status().as_u16();
        let event_stream = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let body = response
            .text()
            .await
            .map_err(|e| format!("reading the answer failed: {}", describe(&e)))?;
        if status == 202 {
            return Ok(Answer::Messages(Vec::new()));
        }
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| body.chars().take(300).collect());
            return Ok(Answer::Refused(status, message));
        }
        if event_stream {
            let messages = body
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .collect();
            return Ok(Answer::Messages(messages));
        }
        if body.trim().is_empty() {
            return Ok(Answer::Messages(Vec::new()));
        }
        let value: Value = serde_json::from_str(&body)
            .map_err(|_| format!("HTTP {status} with a body that is not JSON"))?;
        Ok(Answer::Messages(match value {
            Value::Array(items) => items,
            one => vec![one],
        }))
    }
}

/// The JSON-RPC code for a refusal the server answered with this HTTP status.
fn refused_code(status: u16) -> i64 {
    match status {
        401 => crate::mcp::http::gate::UNAUTHORIZED,
        403 => crate::mcp::http::gate::FORBIDDEN,
        429 => crate::mcp::http::gate::TOO_MANY_FAILURES,
        503 => crate::mcp::http::gate::UNAVAILABLE,
        _ => -32603,
    }
}

/// A reqwest error without its URL (which is already named) and with its cause.
fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn error_line(id: Value, code: i64, message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    })
    .to_string()
}
