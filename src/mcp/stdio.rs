//! The stdio transport: stdin and stdout as the MCP client sees them. Its own line framing sits
//! in front of the SDK so that every request gets exactly one answer:
//!
//! - lines are read with a bound ([`MAX_LINE_BYTES`]): a longer line is discarded as it streams
//!   in (memory stays near idle whatever the client sends) and answered `-32600`, with its id
//!   when the first bytes show one;
//! - each line passes the envelope check ([`super::envelope`]) and is either handed to the SDK,
//!   which can then read it, or answered here (`-32700` / `-32600` / `-32602`);
//! - the server keeps serving after any of these.
//!
//! All writes to stdout go through one task, so an error line can never interleave with a
//! response.

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::envelope::{self, Verdict};

/// Largest message accepted from the client, in bytes, not counting its line ending; longer
/// ones are answered with an error and skipped.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// Bytes kept of an over-long line to find its id in.
const HEAD_BYTES: usize = 4096;
/// A buffer that held a large line is given back once the line is handled.
const KEEP_CAPACITY: usize = 64 * 1024;
const PIPE_BYTES: usize = 256 * 1024;

/// The two ends the SDK reads and writes, and the task that owns stdout.
#[derive(Debug)]
pub struct StdioTransport {
    pub reader: DuplexStream,
    pub writer: DuplexStream,
    /// Finishes once everything the SDK wrote has reached stdout.
    pub flushed: JoinHandle<()>,
}

impl StdioTransport {
    /// The SDK's transport over the two ends, taking any line this framing passed on.
    pub fn into_sdk(
        self,
    ) -> (
        rmcp::transport::async_rw::AsyncRwTransport<rmcp::RoleServer, DuplexStream, DuplexStream>,
        JoinHandle<()>,
    ) {
        let transport =
            rmcp::transport::async_rw::AsyncRwTransport::new_server(self.reader, self.writer)
                .with_max_line_length(MAX_LINE_BYTES + 2);
        (transport, self.flushed)
    }
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

/// One line as read: whole, or too long (only its head kept).
enum Line {
    Whole,
    TooLong,
    End,
}

/// Reads up to the next newline into `line` (newline included), keeping at most `limit` bytes
/// of line content plus its ending; a longer line is read to its end without being kept (only
/// its first [`HEAD_BYTES`] stay in `line`).
async fn read_line<R: AsyncBufRead + Unpin>(
    input: &mut R,
    line: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Line> {
    let mut too_long = false;
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Whole,
            });
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let take = newline.map_or(available.len(), |i| i + 1);
        if !too_long {
            line.extend_from_slice(&available[..take]);
            // Room for the line ending: "\r\n" after exactly `limit` bytes is still fine.
            if content_len(line, newline.is_some()) > limit {
                too_long = true;
                line.truncate(HEAD_BYTES);
                line.shrink_to(KEEP_CAPACITY);
            }
        }
        input.consume(take);
        if newline.is_some() {
            return Ok(if too_long { Line::TooLong } else { Line::Whole });
        }
    }
}

/// Length of the line without its ending (an unfinished line may yet end in "\r").
fn content_len(line: &[u8], ended: bool) -> usize {
    let ending = if ended {
        if line.ends_with(b"\r\n") { 2 } else { 1 }
    } else {
        usize::from(line.ends_with(b"\r"))
    };
    line.len() - ending
}

/// Passes well-formed messages on to the SDK; answers the rest. Ends at EOF, which closes the
/// SDK's input and so ends the session.
async fn filter_input<R: AsyncRead + Unpin>(
    input: R,
    mut to_sdk: DuplexStream,
    errors: mpsc::UnboundedSender<String>,
) {
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        if line.capacity() > KEEP_CAPACITY {
            line.shrink_to(KEEP_CAPACITY);
        }
        let verdict = match read_line(&mut input, &mut line, MAX_LINE_BYTES).await {
            Ok(Line::End) => break,
            Ok(Line::TooLong) => {
                Verdict::Answer(envelope::too_long(trim_line(&line), MAX_LINE_BYTES))
            }
            Ok(Line::Whole) => {
                let body = trim_line(&line);
                if body.is_empty() {
                    continue;
                }
                envelope::check(body)
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading stdin failed; ending the session");
                break;
            }
        };
        match verdict {
            Verdict::Pass => {
                let body = trim_line(&line);
                if to_sdk.write_all(body).await.is_err() || to_sdk.write_all(b"\n").await.is_err() {
                    break;
                }
            }
            Verdict::Answer(reply) => {
                let _ = errors.send(reply);
            }
            Verdict::Drop => {}
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
