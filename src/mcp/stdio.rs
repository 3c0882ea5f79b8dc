//! The stdio transport: stdin and stdout as the MCP client sees them, with one addition to what
//! the SDK does itself. A line that is not JSON at all gets a JSON-RPC parse error (-32700, id
//! null) instead of silence, so a client or a person typing at the server learns what happened;
//! the server keeps serving. Everything else (framing, invalid requests, non-MCP notifications)
//! is left to the SDK, which reads valid lines from an in-memory pipe.
//!
//! All writes to stdout go through one task, so an error line can never interleave with a
//! response.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Largest line accepted from the client; longer ones are answered with an error and skipped.
const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
const PIPE_BYTES: usize = 256 * 1024;

/// The two ends the SDK reads and writes, and the task that owns stdout.
#[derive(Debug)]
pub struct StdioTransport {
    pub reader: DuplexStream,
    pub writer: DuplexStream,
    /// Finishes once everything the SDK wrote has reached stdout.
    pub flushed: JoinHandle<()>,
}

/// Wires the process's stdin and stdout.
pub fn stdio() -> StdioTransport {
    let (stdin, stdout) = rmcp::transport::io::stdio_pipes();
    wire(stdin, stdout)
}

/// Wires any byte streams (tests use in-memory pipes).
pub fn wire<R, W>(input: R, output: W) -> StdioTransport
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (sdk_reader, filter_writer) = tokio::io::duplex(PIPE_BYTES);
    let (sdk_writer, output_reader) = tokio::io::duplex(PIPE_BYTES);
    let (errors_tx, errors_rx) = mpsc::unbounded_channel();
    tokio::spawn(filter_input(input, filter_writer, errors_tx));
    let flushed = tokio::spawn(write_output(output_reader, errors_rx, output));
    StdioTransport {
        reader: sdk_reader,
        writer: sdk_writer,
        flushed,
    }
}

/// Passes JSON lines on to the SDK; answers the rest with a parse error. Ends at EOF, which
/// closes the SDK's input and so ends the session.
async fn filter_input<R: AsyncRead + Unpin>(
    input: R,
    mut to_sdk: DuplexStream,
    errors: mpsc::UnboundedSender<String>,
) {
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading stdin failed; ending the session");
                break;
            }
        }
        let body = trim_line(&line);
        if body.is_empty() {
            continue;
        }
        if body.len() > MAX_LINE_BYTES {
            let _ = errors.send(error_line(
                -32600,
                "Invalid Request: message longer than 16 MiB",
            ));
            continue;
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            tracing::warn!(error = %e, "received a line that is not JSON; answered with a parse error");
            let _ = errors.send(error_line(
                -32700,
                &format!("Parse error: the message is not valid JSON ({e}); send one JSON-RPC message per line"),
            ));
            continue;
        }
        if to_sdk.write_all(body).await.is_err() || to_sdk.write_all(b"\n").await.is_err() {
            break;
        }
    }
    let _ = to_sdk.shutdown().await;
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // A byte-order mark some clients prepend.
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

fn error_line(code: i64, message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    })
    .to_string()
}

/// Copies the SDK's output to stdout line by line, slipping error lines in between.
async fn write_output<W: AsyncWrite + Unpin>(
    from_sdk: DuplexStream,
    mut errors: mpsc::UnboundedReceiver<String>,
    mut output: W,
) {
    let mut from_sdk = BufReader::new(from_sdk);
    let mut line = Vec::new();
    let mut errors_open = true;
    loop {
        line.clear();
        tokio::select! {
            read = from_sdk.read_until(b'\n', &mut line) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
                            return;
                        }
                    }
                }
            }
            error = errors.recv(), if errors_open => {
                match error {
                    Some(error) => {
                        let written = output.write_all(error.as_bytes()).await.and(output.write_all(b"\n").await);
                        if written.is_err() || output.flush().await.is_err() {
                            return;
                        }
                    }
                    None => errors_open = false,
                }
            }
        }
    }
    let _ = output.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn garbage_gets_a_parse_error_and_json_passes_through() {
        let (mut client_in, server_in) = tokio::io::duplex(4096);
        let (server_out, mut client_out) = tokio::io::duplex(4096);
        let mut transport = wire(server_in, server_out);

        client_in
            .write_all(b"garbage{\n\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n")
            .await
            .unwrap();
        drop(client_in);

        let mut seen_by_sdk = String::new();
        transport
            .reader
            .read_to_string(&mut seen_by_sdk)
            .await
            .unwrap();
        assert_eq!(
            seen_by_sdk,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
        );

        transport
            .writer
            .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n")
            .await
            .unwrap();
        drop(transport.writer);
        transport.flushed.await.unwrap();

        let mut out = String::new();
        client_out.read_to_string(&mut out).await.unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        let error = lines.iter().find(|l| l.get("error").is_some()).unwrap();
        assert_eq!(error["error"]["code"], -32700);
        assert!(error["id"].is_null());
        assert!(lines.iter().any(|l| l["result"].is_object()));
    }
}
