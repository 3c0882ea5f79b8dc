//! The team server under test and a client for it:
//!
//! - [`HttpServer`]: `mem0-mcp serve --http` on a free port of 127.0.0.1, for one
//!   [`TestDb`], its stderr in the sandbox's logs; stopped with SIGTERM ([`HttpServer::stop`])
//!   or killed when dropped;
//! - [`HttpClient`]: JSON-RPC over HTTP POST with fixed headers (a token, a user, a project),
//!   the replies' HTTP status and headers kept for the tests of refusals.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::db::TestDb;
use super::system::free_port;

/// The protocol version the client announces.
pub const PROTOCOL: &str = "2025-06-18";

/// A running `serve --http` (see the module docs).
#[derive(Debug)]
pub struct HttpServer {
    child: Option<Child>,
    pub port: u16,
    log: PathBuf,
}

impl HttpServer {
    /// Starts the server for `db` with `env` on top and waits until `/healthz` answers.
    pub fn start(db: &TestDb, env: &[(&str, &str)]) -> HttpServer {
        Self::start_with_args(db, &[], env)
    }

    /// [`HttpServer::start`] with more arguments after `serve --http --listen …`.
    pub fn start_with_args(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> HttpServer {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut all = vec!["serve", "--http", "--listen", listen.as_str()];
        all.extend_from_slice(args);
        let mut cmd = db.command(&all, env);
        let log = db.log_path("http");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("server log file"));
        let child = cmd.spawn().expect("spawn mem0-mcp serve --http");
        let mut server = HttpServer {
            child: Some(child),
            port,
            log,
        };
        server.wait_until_up();
        server
    }

    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("serve --http exited with {status}:\n{}", self.log());
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve --http did not listen within 30 s:\n{}", self.log());
    }

    /// `http://127.0.0.1:PORT/mcp/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp/", self.port)
    }

    /// `http://127.0.0.1:PORT` and `path`.
    pub fn at(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id (to send it a signal).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends SIGTERM and waits (at most 30 s) for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.pid().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        self.wait_exit(Duration::from_secs(30))
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        let mut child = self.child.take().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the server did not exit within {limit:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The JSON-RPC error message, or "".
    pub fn error_message(&self) -> String {
        self.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A header's value, or "".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

/// JSON-RPC over HTTP POST with fixed headers.
#[derive(Debug, Clone)]
pub struct HttpClient {
    url: String,
    headers: Vec<(String, String)>,
    http: reqwest::Client,
}

impl HttpClient {
    /// A client of `url` sending no credentials.
    pub fn new(url: &str) -> Self {
        // reqwest is built without a TLS provider of its own: the binary installs ring too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        HttpClient {
            url: url.to_string(),
            headers: Vec::new(),
            // A connection per request: a refusal answered before the body was read closes
            // its connection, which a reused one would meet as a broken pipe.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client"),
        }
    }

    /// The same client sending `name: value` on every request too.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// `X-MCP-Token` and `X-MCP-UserID`.
    pub fn signed_in(self, token: &str, user: &str) -> Self {
        self.with("X-MCP-Token", token).with("X-MCP-UserID", user)
    }

    /// `Authorization: Bearer TOKEN`.
    pub fn bearer(self, token: &str) -> Self {
        self.with("Authorization", &format!("Bearer {token}"))
    }

    /// The same client at another URL.
    pub fn at(mut self, url: &str) -> Self {
        self.url = url.to_string();
        self
    }

    /// POSTs `body` as it is.
    pub async fn post_bytes(&self, body: Vec<u8>) -> Reply {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", PROTOCOL);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.body(body).send().await.expect("POST to the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// POSTs one JSON-RPC message.
    pub async fn post(&self, message: Value) -> Reply {
        self.post_bytes(message.to_string().into_bytes()).await
    }

    /// A request `method` with `params`, id 1.
    pub async fn request(&self, method: &str, params: Value) -> Reply {
        self.post(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .await
    }

    /// `initialize`, which must succeed.
    pub async fn initialize(&self) -> Value {
        let reply = self
            .request(
                "initialize",
                json!({"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}),
            )
            .await;
        assert_eq!(reply.status, 200, "initialize: {}", reply.text);
        reply.body["result"].clone()
    }

    /// The listed tool names, sorted.
    pub async fn tool_names(&self) -> Vec<String> {
        let reply = self.request("tools/list", json!({})).await;
        assert_eq!(reply.status, 200, "tools/list: {}", reply.text);
        let mut names: Vec<String> = reply.body["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("tools/list: {}", reply.text))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    /// A tool call answered with HTTP 200: (structured content, isError, text).
    pub async fn call(&self, name: &str, args: Value) -> (Value, bool, String) {
        let reply = self
            .request("tools/call", json!({"name": name, "arguments": args}))
            .await;
        assert_eq!(
            reply.status, 200,
            "{name}: HTTP {}: {}",
            reply.status, reply.text
        );
        let result = &reply.body["result"];
        assert!(result.is_object(), "{name}: {}", reply.text);
        let text = result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (
            result["structuredContent"].clone(),
            result["isError"] == true,
            text,
        )
    }

    /// A tool call that must succeed; its structured content.
    pub async fn ok(&self, name: &str, args: Value) -> Value {
        let (value, is_error, text) = self.call(name, args).await;
        assert!(!is_error, "{name} failed: {text}");
        value
    }

    /// A tool call that must fail with isError; its message.
    pub async fn err(&self, name: &str, args: Value) -> String {
        let (_, is_error, text) = self.call(name, args).await;
        assert!(is_error, "{name} should have failed: {text}");
        text
    }

    /// GETs a path of the server this client posts to (`/healthz`): status and body.
    pub async fn get(&self, url: &str) -> (u16, Value) {
        let response = self.http.get(url).send().await.expect("GET");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}
