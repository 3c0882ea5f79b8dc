//! Every request gets exactly one answer: hostile and malformed lines sent raw to the real
//! binary over stdio, each answered with its id whenever the id can be read, and the session
//! going on afterwards; over-long lines discarded as they stream in.

use serde_json::{Value, json};

use crate::support::{Backend, TestDb};

on_both_backends!(every_request_is_answered);

const MIB: usize = 1024 * 1024;

fn call(id: i64, tool: &str, arguments: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
    .to_string()
}

/// The code of an answer: the JSON-RPC error code, or "tool error" / "ok" for a tool result.
fn outcome(answer: &Value) -> String {
    match (&answer["error"]["code"], &answer["result"]["isError"]) {
        (Value::Number(code), _) => code.to_string(),
        (_, Value::Bool(true)) => "tool error".into(),
        _ => "ok".into(),
    }
}

async fn every_request_is_answered(backend: Backend) {
    let db = TestDb::new(backend);
    let mut server = db.raw(&[
        ("MEM0_USER_ID", "alice"),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "proj-frame"),
    ]);
    server.initialize().await;

    let mut nested = json!(1);
    for _ in 0..125 {
        nested = json!({ "a": nested });
    }
    let mut metadata_40 = json!(1);
    for _ in 0..40 {
        metadata_40 = json!({ "a": metadata_40 });
    }
    // (id, raw line, expected outcome)
    let cases: Vec<(i64, Vec<u8>, &str)> = vec![
        (2, br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_memories","arguments":{"limit":1e400}}}"#.to_vec(), "-32602"),
        (3, br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add_memory","arguments":{"content":"ship it \ud83d"}}}"#.to_vec(), "-32602"),
        (4, br#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"add_memory","arguments":{"content":"lone low \udc00 half"}}}"#.to_vec(), "-32602"),
        (5, b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"add_memory\",\"arguments\":{\"content\":\"caf\xe9\"}}}".to_vec(), "-32602"),
        (6, call(6, "add_memory", json!({"content": "deep", "metadata": nested})).into_bytes(), "tool error"),
        (7, call(7, "add_memory", json!({"content": "deep", "metadata": metadata_40})).into_bytes(), "tool error"),
        (8, br#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add_memory","arguments":"content"}}"#.to_vec(), "-32602"),
        (9, br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"add_memory","arguments":["x"]}}"#.to_vec(), "-32602"),
        (10, br#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":5}"#.to_vec(), "-32602"),
        (11, br#"{"jsonrpc":"1.0","id":11,"method":"ping"}"#.to_vec(), "-32600"),
        (12, br#"{"jsonrpc":"2.0","id":12}"#.to_vec(), "-32600"),
        (13, br#"{"jsonrpc":"2.0","id":13,"method":7}"#.to_vec(), "-32600"),
        (14, br#"{"jsonrpc":"2.0","id":14,"method":"no/such"}"#.to_vec(), "-32601"),
        (15, call(15, "list_memories", json!({"limit": 1e300})).into_bytes(), "tool error"),
    ];
    for (_, line, _) in &cases {
        server.send_bytes(line).await;
        server.send_bytes(b"\n").await;
    }
    // Answers may come in any order; exactly one per request.
    let mut answers = std::collections::HashMap::new();
    while answers.len() < cases.len() {
        let answer = server.recv().await;
        let id = answer["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("an answer without a request's id: {answer}"));
        assert!(
            answers.insert(id, answer).is_none(),
            "two answers for id {id}"
        );
    }
    for (id, line, expected) in &cases {
        let answer = &answers[id];
        assert_eq!(
            outcome(answer),
            *expected,
            "{} → {answer}",
            String::from_utf8_lossy(line)
        );
    }
    // Lines whose id cannot be read: answered with id null, one answer each.
    for line in [
        "not json",
        "[]",
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        "5",
        r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
    ] {
        server.send_line(line).await;
        let answer = server.recv().await;
        assert!(answer["id"].is_null(), "{line} → {answer}");
        assert!(
            matches!(outcome(&answer).as_str(), "-32700" | "-32600"),
            "{line} → {answer}"
        );
    }

    // The text backslash-u-0-0-0-0 in metadata is text, not a NUL: stored and read back as sent.
    server
        .send_line(&call(
            20,
            "add_memory",
            json!({"content": "Windows path kept", "metadata": {"path": "C:\\u0000dir"}}),
        ))
        .await;
    let added = server.response(20).await;
    assert_eq!(outcome(&added), "ok", "{added}");
    let id = added["result"]["structuredContent"]["memory"]["id"].clone();
    server
        .send_line(&call(21, "get_memory", json!({"id": id})))
        .await;
    let got = server.response(21).await;
    assert_eq!(
        got["result"]["structuredContent"]["memory"]["metadata"]["path"],
        "C:\\u0000dir"
    );
    // A real NUL is still refused, by a tool error.
    server
        .send_line(&call(
            22,
            "add_memory",
            json!({"content": "nul", "metadata": {"path": "a\u{0}b"}}),
        ))
        .await;
    assert_eq!(outcome(&server.response(22).await), "tool error");

    // Nothing of the refused requests was stored.
    server
        .send_line(&call(23, "list_memories", json!({})))
        .await;
    let list = server.response(23).await;
    assert_eq!(list["result"]["structuredContent"]["total"], 1, "{list}");
    server.close_stdin();
    server.wait_exit(std::time::Duration::from_secs(30)).await;
}

/// A line of `len` bytes: a JSON-RPC request with id `id`, padded inside a string.
fn line_of(len: usize, id: i64) -> Vec<u8> {
    let head = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"add_memory","arguments":{{"content":"big","metadata":{{"pad":""#
    );
    let tail = r#""}}}}"#;
    let mut line = head.into_bytes();
    line.resize(len - tail.len(), b'x');
    line.extend_from_slice(tail.as_bytes());
    assert_eq!(line.len(), len);
    serde_json::from_slice::<Value>(&line).expect("valid JSON");
    line
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lines_are_answered_and_discarded_as_they_stream() {
    let db = TestDb::new(Backend::Sqlite);
    let env = [
        ("MEM0_USER_ID", "alice"),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "proj-long"),
    ];

    // Exactly at the limit: read and answered (a tool error: the metadata is too large); one
    // byte more: refused unread, with the id from its first bytes. Both with "\r\n" too.
    let mut server = db.raw(&env);
    server.initialize().await;
    for (id, len, ending, expected) in [
        (2, 16 * MIB, &b"\n"[..], "tool error"),
        (3, 16 * MIB + 1, &b"\n"[..], "-32600"),
        (4, 16 * MIB, &b"\r\n"[..], "tool error"),
        (5, 16 * MIB + 1, &b"\r\n"[..], "-32600"),
    ] {
        server.send_bytes(&line_of(len, id)).await;
        server.send_bytes(ending).await;
        let answer = server.response(id).await;
        assert_eq!(outcome(&answer), expected, "line of {len} bytes: {answer}");
    }
    server
        .send_line(r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#)
        .await;
    assert!(server.response(6).await["result"].is_object());
    server.close_stdin();
    server.wait_exit(std::time::Duration::from_secs(30)).await;

    // 256 MiB with no newline: memory stays near idle while it streams in.
    let mut server = db.raw(&env);
    server.initialize().await;
    let idle = rss_kib(server.pid(), "VmRSS:");
    server
        .send_bytes(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add_memory","arguments":{"content":""#)
        .await;
    let chunk = vec![b'y'; MIB];
    for _ in 0..256 {
        server.send_bytes(&chunk).await;
    }
    let peak = rss_kib(server.pid(), "VmHWM:");
    server.send_bytes(b"\"}}}\n").await;
    let answer = server.response(7).await;
    assert_eq!(outcome(&answer), "-32600", "{answer}");
    assert!(
        peak < idle + 64 * 1024,
        "streaming 256 MiB grew the server from {idle} KiB to a peak of {peak} KiB"
    );
    server
        .send_line(r#"{"jsonrpc":"2.0","id":8,"method":"ping"}"#)
        .await;
    assert!(server.response(8).await["result"].is_object());
}
