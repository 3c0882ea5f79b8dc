//! The two ways the tests talk MCP to the real binary over stdio:
//!
//! - [`McpClient`]: the rmcp client (any [`ClientHandler`], `()` by default), with tool calls
//!   that fail the test on a protocol error or no answer within [`LIMIT`], and successful
//!   results checked against the tool's declared output schema;
//! - [`RawProcess`]: JSON-RPC lines written and read by hand, for what the rmcp client hides:
//!   exit codes, signals, exactly what reaches stdout, and servers that refuse to start.
//!
//! A server's stderr goes to a file (so a chatty log can never block it), which failure
//! messages quote.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, Tool};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use super::binary::LIMIT;
use super::schema;

/// The last 40 lines of a log file (for failure messages).
fn read_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines[start..].join("\n")
}

/// `text` cut to 200 characters, for failure messages about long arguments.
pub fn abbreviate(text: &str) -> String {
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text.to_string()
    }
}

/// A running server and the rmcp client connected to it. Dropping it kills the server.
#[derive(Debug)]
pub struct McpClient<H: ClientHandler = ()> {
    client: Option<RunningService<RoleClient, H>>,
    stderr_path: PathBuf,
    tools: OnceLock<Vec<Tool>>,
}

impl McpClient<()> {
    /// Spawns `cmd` (its environment and working directory as given) with stderr to
    /// `stderr_path`, and completes the MCP handshake.
    pub async fn start(cmd: std::process::Command, stderr_path: PathBuf) -> Self {
        Self::start_with((), cmd, stderr_path).await
    }
}

impl<H: ClientHandler> McpClient<H> {
    /// [`McpClient::start`] with a client of its own (e.g. one that answers `roots/list`).
    pub async fn start_with(handler: H, cmd: std::process::Command, stderr_path: PathBuf) -> Self {
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log file");
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(stderr)
            .spawn()
            .expect("spawn the server");
        let client = match tokio::time::timeout(LIMIT, handler.serve(transport)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "MCP handshake with the server failed: {e}\nserver stderr:\n{}",
                read_tail(&stderr_path)
            ),
            Err(_) => panic!(
                "the server did not answer initialize within 60 s\nserver stderr:\n{}",
                read_tail(&stderr_path)
            ),
        };
        McpClient {
            client: Some(client),
            stderr_path,
            tools: OnceLock::new(),
        }
    }

    /// The rmcp client itself, for requests the helpers here do not cover.
    pub fn client(&self) -> &RunningService<RoleClient, H> {
        self.client.as_ref().expect("server already stopped")
    }

    /// The file the server's stderr goes to.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr_path
    }

    /// The last lines the server logged (for failure messages).
    pub fn stderr_tail(&self) -> String {
        read_tail(&self.stderr_path)
    }

    pub async fn list_tools(&self) -> Vec<Tool> {
        tokio::time::timeout(LIMIT, self.client().list_all_tools())
            .await
            .expect("tools/list did not answer within 60 s")
            .unwrap_or_else(|e| panic!("tools/list failed: {e}\n{}", self.stderr_tail()))
    }

    /// The names `tools/list` offers.
    pub async fn tool_names(&self) -> Vec<String> {
        self.list_tools()
            .await
            .iter()
            .map(|t| t.name.to_string())
            .collect()
    }

    async fn tool(&self, name: &str) -> Option<Tool> {
        if self.tools.get().is_none() {
            let tools = self.list_tools().await;
            let _ = self.tools.set(tools);
        }
        self.tools
            .get()
            .and_then(|tools| tools.iter().find(|t| t.name == name).cloned())
    }

    /// Calls a tool: `(structuredContent or null, isError, the text blocks joined)`. `args` is
    /// a JSON object, or null for no arguments. A protocol-level error or no answer within
    /// 60 s fails the test.
    pub async fn call(&self, name: &str, args: Value) -> (Value, bool, String) {
        let mut params = CallToolRequestParams::new(name.to_string());
        match args {
            Value::Object(map) => params = params.with_arguments(map),
            Value::Null => {}
            other => panic!("tool arguments must be an object, not {other}"),
        }
        let result = match tokio::time::timeout(LIMIT, self.client().call_tool(params)).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => panic!(
                "{name}: protocol-level failure: {e}\nserver stderr:\n{}",
                self.stderr_tail()
            ),
            Err(_) => panic!(
                "{name} did not answer within 60 s\nserver stderr:\n{}",
                self.stderr_tail()
            ),
        };
        let text = result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join("\n");
        (
            result.structured_content.unwrap_or(Value::Null),
            result.is_error.unwrap_or(false),
            text,
        )
    }

    /// Calls a tool that must succeed; returns its structured result, after checking it
    /// against the tool's declared output schema and that a text rendering came along.
    pub async fn ok(&self, name: &str, args: Value) -> Value {
        let (structured, is_error, text) = self.call(name, args.clone()).await;
        assert!(
            !is_error,
            "{name}({args}) failed: {text}\nserver stderr:\n{}",
            self.stderr_tail()
        );
        assert!(
            structured.is_object(),
            "{name}({args}) returned no structuredContent object: {structured}"
        );
        assert!(
            !text.trim().is_empty(),
            "{name}({args}) returned no text rendering"
        );
        if let Some(tool) = self.tool(name).await {
            let schema = Value::Object(
                tool.output_schema
                    .as_deref()
                    .cloned()
                    .unwrap_or_else(|| panic!("tool {name} declares no output schema")),
            );
            let problems = schema::validate(&schema, &structured);
            assert!(
                problems.is_empty(),
                "{name} structuredContent does not match its output schema: {problems:#?}\n{structured:#}"
            );
        }
        structured
    }

    /// Calls a tool that must fail as a tool error (`isError: true`); returns the message.
    pub async fn err(&self, name: &str, args: Value) -> String {
        let (structured, is_error, text) = self.call(name, args.clone()).await;
        assert!(
            is_error,
            "{name}({}) should have been a tool error, got: {text}\n{structured:#}",
            abbreviate(&args.to_string())
        );
        assert!(
            !text.trim().is_empty(),
            "{name}: a tool error without a message"
        );
        text
    }

    /// Closes the session (stdin) and waits for the process to end.
    pub async fn shutdown(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(LIMIT, client.cancel()).await;
        }
    }
}

/// A server driven with raw JSON-RPC lines. Dropping it kills the server.
#[derive(Debug)]
pub struct RawProcess {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    /// Every stdout line read so far.
    pub lines: Vec<String>,
    stderr_path: PathBuf,
}

impl RawProcess {
    /// Spawns `cmd` (environment and working directory as given) with its stdin and stdout
    /// piped to the test and its stderr to `stderr_path`.
    pub fn spawn(cmd: std::process::Command, stderr_path: PathBuf) -> Self {
        use tokio::io::AsyncBufReadExt;
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log file");
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn mem0-mcp");
        let stdin = child.stdin.take();
        let stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        RawProcess {
            child,
            stdin,
            stdout,
            lines: Vec::new(),
            stderr_path,
        }
    }

    /// The server's process id (to send it a signal).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// Everything the server logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Writes one line (a JSON-RPC message, or anything else) to the server's stdin; false
    /// when the server no longer reads it (it exited, or stdin was closed).
    pub async fn try_send_line(&mut self, line: &str) -> bool {
        use tokio::io::AsyncWriteExt;
        let Some(stdin) = self.stdin.as_mut() else {
            return false;
        };
        stdin.write_all(line.as_bytes()).await.is_ok()
            && stdin.write_all(b"\n").await.is_ok()
            && stdin.flush().await.is_ok()
    }

    /// Writes raw bytes (any bytes, no newline added) to the server's stdin, which must take
    /// them.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.stdin.as_mut().expect("stdin is open");
        let written = stdin.write_all(bytes).await.and(stdin.flush().await);
        assert!(
            written.is_ok(),
            "the server's stdin is closed\nstderr:\n{}",
            read_tail(&self.stderr_path)
        );
    }

    /// Writes one line to the server's stdin, which must take it.
    pub async fn send_line(&mut self, line: &str) {
        assert!(
            self.try_send_line(line).await,
            "the server's stdin is closed\nstderr:\n{}",
            read_tail(&self.stderr_path)
        );
    }

    /// Writes one JSON-RPC message, which the server must take.
    pub async fn send(&mut self, message: Value) {
        self.send_line(&message.to_string()).await;
    }

    /// The next stdout line, which must be a JSON-RPC 2.0 message; `None` when stdout ended.
    /// No line within 60 s fails the test.
    pub async fn next_message(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(LIMIT, self.stdout.next_line())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no stdout line within 60 s\nstderr:\n{}",
                    read_tail(&self.stderr_path)
                )
            })
            .ok()??;
        self.lines.push(line.clone());
        Some(parse_jsonrpc_line(&line))
    }

    /// Reads the next stdout line, which must be a JSON-RPC 2.0 message.
    pub async fn recv(&mut self) -> Value {
        match self.next_message().await {
            Some(message) => message,
            None => panic!(
                "stdout closed early\nstderr:\n{}",
                read_tail(&self.stderr_path)
            ),
        }
    }

    /// Reads messages until the response with this id (notifications in between are kept in
    /// `lines` too).
    pub async fn response(&mut self, id: i64) -> Value {
        loop {
            let message = self.recv().await;
            if message.get("id") == Some(&Value::from(id)) {
                return message;
            }
        }
    }

    /// Sends `initialize` and `notifications/initialized`; returns the initialize result.
    pub async fn initialize(&mut self) -> Value {
        self.initialize_with(json!({})).await
    }

    /// [`RawProcess::initialize`] with these client capabilities (e.g. roots).
    pub async fn initialize_with(&mut self, capabilities: Value) -> Value {
        self.send(json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": capabilities,
                "clientInfo": {"name": "raw-test", "version": "0.0.0"}
            }
        }))
        .await;
        let response = self.response(1).await;
        assert!(
            response["result"]["serverInfo"].is_object(),
            "initialize failed: {response}"
        );
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        response
    }

    /// Closes the server's stdin: the client is gone.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to exit (panics after `limit`), then reads what is left on
    /// stdout into `lines`, checking that each is a JSON-RPC message.
    pub async fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait for mem0-mcp"),
            Err(_) => panic!(
                "mem0-mcp did not exit within {limit:?}\nstderr:\n{}",
                read_tail(&self.stderr_path)
            ),
        };
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line()).await
        {
            parse_jsonrpc_line(&line);
            self.lines.push(line);
        }
        status
    }
}

/// A stdout line must be one JSON-RPC 2.0 message and nothing else.
pub fn parse_jsonrpc_line(line: &str) -> Value {
    let message: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("stdout carried a line that is not JSON ({e}): {line:?}"));
    assert_eq!(
        message["jsonrpc"], "2.0",
        "stdout carried JSON that is not JSON-RPC 2.0: {line}"
    );
    message
}
