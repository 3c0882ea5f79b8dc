//! The JSON-RPC envelope check every incoming line passes before the SDK sees it, so that every
//! request gets exactly one answer (JSON-RPC 2.0 §5): a line the SDK would drop or answer
//! without an id is answered here instead, with the request's id whenever it can be read.
//!
//! - not JSON at all (or cut off): `-32700`, id null;
//! - JSON whose structure is whole but which holds a value no parser can take (a number beyond
//!   a 64-bit float such as `1e400`, a lone UTF-16 surrogate such as `"\ud83d"`, bytes that are
//!   not UTF-8, nesting deeper than 128 levels): `-32602` with the id read from the raw text, or
//!   for `tools/call` nested too deep, a tool error (the model can flatten its arguments);
//! - not a JSON-RPC 2.0 message (a batch, a scalar, a bad `jsonrpc`, `method` or `id`): `-32600`;
//! - a known method whose params do not fit (`"arguments": "…"`): `-32602`, not `-32601`.
//!
//! Notifications never get an answer (they have no id); a faulty one is logged and dropped.

use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonRpcMessage};
use serde_json::{Value, json};

/// Methods the server implements or the SDK answers itself; params that do not fit one of
/// these are invalid params, not an unknown method.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
    "logging/setLevel",
];

/// What to do with one line.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// A well-formed message: hand it to the SDK.
    Pass,
    /// Answer with this JSON-RPC line; the SDK never sees the message.
    Answer(String),
    /// A faulty notification or response: nothing to answer (already logged).
    Drop,
}

/// Checks one line (without its newline).
pub fn check(line: &[u8]) -> Verdict {
    match serde_json::from_slice::<Value>(line) {
        Ok(value) => check_message(value),
        Err(e) => unreadable(line, &e),
    }
}

/// The answer to a line longer than the limit, of which only `head` was kept.
pub fn too_long(head: &[u8], limit: usize) -> String {
    let peek = peek(head);
    tracing::warn!(id = ?peek.id, "received a message over {limit} bytes; discarded it");
    error_line(
        peek.id.unwrap_or(Value::Null),
        -32600,
        &format!(
            "Invalid Request: the message is longer than {} MiB ({limit} bytes); send large content in smaller pieces",
            limit / (1024 * 1024)
        ),
    )
}

fn unreadable(line: &[u8], e: &serde_json::Error) -> Verdict {
    let peek = peek(line);
    let (Some(id), true, Some(method)) = (peek.id.clone(), peek.whole, peek.method.clone()) else {
        if peek.whole && peek.id.is_none() && peek.method.is_some() {
            tracing::warn!(error = %e, "dropped a notification that is not valid JSON");
            return Verdict::Drop;
        }
        tracing::warn!(error = %e, "received a line that is not JSON; answered with a parse error");
        return Verdict::Answer(error_line(
            Value::Null,
            -32700,
            &format!(
                "Parse error: the message is not valid JSON ({e}); send one JSON-RPC message per line"
            ),
        ));
    };
    let fault = describe_fault(line, e);
    tracing::warn!(%id, %method, %fault, "answered a request holding a value that cannot be read");
    if method == "tools/call" && e.to_string().contains("recursion limit") {
        return Verdict::Answer(tool_error_line(id, &fault));
    }
    Verdict::Answer(error_line(id, -32602, &format!("Invalid params: {fault}")))
}

/// What is wrong with a line that is JSON in shape, and how to fix it.
fn describe_fault(line: &[u8], e: &serde_json::Error) -> String {
    if let Err(utf8) = std::str::from_utf8(line) {
        let at = utf8.valid_up_to();
        return format!(
            "the message is not valid UTF-8 (byte 0x{:02X} at offset {at}); send text encoded as UTF-8",
            line[at]
        );
    }
    let text = e.to_string();
    if text.contains("surrogate") || (text.contains("escape") && has_surrogate_escape(line)) {
        format!(
            "a string holds half of a UTF-16 surrogate pair ({text}), as when text is cut inside an emoji; send whole characters"
        )
    } else if text.contains("number out of range") {
        format!(
            "a number is too large ({text}); numbers must lie within ±1.7e308, and limits and counts are small integers"
        )
    } else if text.contains("recursion limit") {
        "the arguments are nested more than 128 levels deep; metadata may be nested at most 32 levels: flatten it".to_owned()
    } else {
        format!("a value cannot be read ({text})")
    }
}

/// Whether the text holds a `\uD800`–`\uDFFF` escape (half of a UTF-16 surrogate pair).
fn has_surrogate_escape(line: &[u8]) -> bool {
    line.windows(4).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && w[2].eq_ignore_ascii_case(&b'd')
            && matches!(w[3].to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f')
    })
}

fn check_message(value: Value) -> Verdict {
    let Value::Object(map) = &value else {
        let why = match &value {
            Value::Array(items) if items.is_empty() => "an empty batch",
            Value::Array(_) => {
                "a batch (JSON-RPC batches are not part of MCP; send one message per line)"
            }
            _ => "not a JSON object",
        };
        tracing::warn!("received a message that is {why}; answered with an invalid request error");
        return Verdict::Answer(error_line(
            Value::Null,
            -32600,
            &format!("Invalid Request: the message is {why}"),
        ));
    };
    let id = map.get("id").cloned();
    let answer_id = match &id {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    };
    let invalid = |why: &str| {
        tracing::warn!(id = %answer_id, "answered an invalid request: {why}");
        Verdict::Answer(error_line(
            answer_id.clone(),
            -32600,
            &format!("Invalid Request: {why}"),
        ))
    };
    if let Some(id) = &id
        && !matches!(id, Value::String(_))
        && id.as_i64().is_none()
    {
        return invalid("\"id\" must be a string or an integer");
    }
    if map.get("jsonrpc") != Some(&Value::from("2.0")) {
        return invalid("\"jsonrpc\" must be \"2.0\"");
    }
    let method = match map.get("method") {
        None => None,
        Some(Value::String(method)) => Some(method.clone()),
        Some(_) => return invalid("\"method\" must be a string"),
    };
    let Some(method) = method else {
        if id.is_some() && (map.contains_key("result") || map.contains_key("error")) {
            return Verdict::Pass;
        }
        return invalid("the message has no \"method\" (and is not a response)");
    };
    let Some(id) = id else {
        if serde_json::from_value::<ClientJsonRpcMessage>(value).is_err() {
            tracing::warn!(%method, "dropped a notification whose params do not fit");
            return Verdict::Drop;
        }
        return Verdict::Pass;
    };
    let params = map.get("params").cloned();
    if let Some(params) = &params
        && !params.is_object()
        && !params.is_null()
    {
        return invalid_params(id, &method, "\"params\" must be an object");
    }
    let known = KNOWN_METHODS.contains(&method.as_str());
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        Ok(JsonRpcMessage::Request(request))
            if known && matches!(request.request, ClientRequest::CustomRequest(_)) =>
        {
            invalid_params(id, &method, &params_fault(&method, params))
        }
        Ok(_) => Verdict::Pass,
        Err(e) if known => invalid_params(id, &method, &e.to_string()),
        Err(e) => {
            tracing::warn!(%id, %method, error = %e, "answered an invalid request");
            Verdict::Answer(error_line(id, -32600, &format!("Invalid Request: {e}")))
        }
    }
}

/// Why the params of a known method did not fit its shape, in the words of the type they miss.
fn params_fault(method: &str, params: Option<Value>) -> String {
    let params = params.unwrap_or(Value::Null);
    let fault = match method {
        "tools/call" => serde_json::from_value::<rmcp::model::CallToolRequestParams>(params).err(),
        "initialize" => {
            serde_json::from_value::<rmcp::model::InitializeRequestParams>(params).err()
        }
        _ => None,
    };
    match (method, fault) {
        ("tools/call", Some(e)) => format!(
            "{e}; tools/call takes {{\"name\": \"<tool>\", \"arguments\": {{…}}}} with the arguments as an object"
        ),
        (_, Some(e)) => e.to_string(),
        (_, None) => "the params do not have the shape the MCP specification gives".to_owned(),
    }
}

fn invalid_params(id: Value, method: &str, why: &str) -> Verdict {
    tracing::warn!(%id, %method, "answered invalid params: {why}");
    Verdict::Answer(error_line(
        id,
        -32602,
        &format!("Invalid params for {method}: {why}"),
    ))
}

/// A JSON-RPC error response.
pub fn error_line(id: Value, code: i64, message: &str) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }).to_string()
}

fn tool_error_line(id: Value, message: &str) -> String {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": { "content": [{ "type": "text", "text": message }], "isError": true },
    })
    .to_string()
}

/// What a tolerant scan of the raw text found at the top level of a message.
#[derive(Debug, Default, PartialEq)]
struct Peek {
    /// The top-level `"id"`, when it is a string or a plain number.
    id: Option<Value>,
    /// The top-level `"method"`, when it is a plain string.
    method: Option<String>,
    /// Whether the top-level object closed, so the structure is whole.
    whole: bool,
}

/// Scans the raw bytes of a message for its top-level `id` and `method` without parsing the
/// values: strings are skipped escape by escape (whatever bytes they hold), numbers and literals
/// up to the next delimiter, nested objects and arrays by counting brackets. Never recurses, so
/// any nesting and any length are safe.
fn peek(bytes: &[u8]) -> Peek {
    let mut scan = Scanner { bytes, at: 0 };
    let mut peek = Peek::default();
    scan.skip_ws();
    if !scan.eat(b'{') {
        return peek;
    }
    loop {
        scan.skip_ws();
        if scan.eat(b'}') {
            scan.skip_ws();
            peek.whole = scan.at == bytes.len();
            return peek;
        }
        let Some(key) = scan.string() else {
            return peek;
        };
        scan.skip_ws();
        if !scan.eat(b':') {
            return peek;
        }
        scan.skip_ws();
        let start = scan.at;
        if !scan.value() {
            return peek;
        }
        let raw = &bytes[start..scan.at];
        match key {
            b"id" => {
                peek.id = serde_json::from_slice::<Value>(raw)
                    .ok()
                    .filter(|v| v.is_string() || v.is_number())
            }
            b"method" => {
                peek.method = serde_json::from_slice::<Value>(raw)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            }
            _ => {}
        }
        scan.skip_ws();
        scan.eat(b',');
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn skip_ws(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.bytes.get(self.at) == Some(&byte);
        if hit {
            self.at += 1;
        }
        hit
    }

    /// A string's raw inside (escapes left as they are), or None if it does not close.
    fn string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.at;
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    let bytes: &'a [u8] = self.bytes;
                    return bytes.get(start..self.at - 1);
                }
                _ => self.at += 1,
            }
        }
        None
    }

    /// Skips one value; false if it does not end.
    fn value(&mut self) -> bool {
        match self.bytes.get(self.at) {
            None => false,
            Some(b'"') => self.string().is_some(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(&b) = self.bytes.get(self.at) {
                    match b {
                        b'"' => {
                            if self.string().is_none() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
                false
            }
            Some(_) => {
                let start = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.at += 1;
                }
                self.at > start && self.at < self.bytes.len()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &[u8]) -> Value {
        match check(line) {
            Verdict::Answer(text) => serde_json::from_str(&text).unwrap(),
            other => panic!("{} gave {other:?}", String::from_utf8_lossy(line)),
        }
    }

    #[test]
    fn unreadable_values_are_answered_with_the_id() {
        let cases: &[(&[u8], i64)] = &[
            (br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_memories","arguments":{"limit":1e400}}}"#, -32602),
            (br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add_memory","arguments":{"content":"ship it \ud83d"}}}"#, -32602),
            (b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"add_memory\",\"arguments\":{\"content\":\"caf\xe9\"}}}", -32602),
        ];
        for (line, code) in cases {
            let reply = answer(line);
            assert_eq!(reply["error"]["code"], *code, "{reply}");
            assert!(
                !reply["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("cannot be read"),
                "{reply}"
            );
            assert!(reply["id"].is_number(), "{reply}");
        }
    }

    #[test]
    fn deep_tool_arguments_are_a_tool_error() {
        let mut metadata = json!(1);
        for _ in 0..125 {
            metadata = json!({ "a": metadata });
        }
        let line = json!({"jsonrpc":"2.0","id":"d","method":"tools/call","params":{"name":"add_memory","arguments":{"content":"x","metadata":metadata}}}).to_string();
        let reply = answer(line.as_bytes());
        assert_eq!(reply["id"], "d");
        assert_eq!(reply["result"]["isError"], true, "{reply}");
    }

    #[test]
    fn envelope_faults() {
        for (line, code, id) in [
            ("garbage{", -32700, Value::Null),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"ping""#,
                -32700,
                Value::Null,
            ),
            ("[]", -32600, Value::Null),
            (
                r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
                -32600,
                Value::Null,
            ),
            ("5", -32600, Value::Null),
            (
                r#"{"jsonrpc":"1.0","id":15,"method":"ping"}"#,
                -32600,
                json!(15),
            ),
            (r#"{"id":16,"method":"ping"}"#, -32600, json!(16)),
            (r#"{"jsonrpc":"2.0","id":17}"#, -32600, json!(17)),
            (
                r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
                -32600,
                Value::Null,
            ),
            (r#"{"jsonrpc":"2.0","id":21,"method":5}"#, -32600, json!(21)),
            (
                r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"add_memory","arguments":"x"}}"#,
                -32602,
                json!(6),
            ),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add_memory","arguments":["x"]}}"#,
                -32602,
                json!(7),
            ),
            (
                r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":5}"#,
                -32602,
                json!(10),
            ),
            (
                r#"{"jsonrpc":"2.0","id":11,"method":"tools/call"}"#,
                -32602,
                json!(11),
            ),
            (
                r#"{"jsonrpc":"2.0","id":"s","method":"ping","params":[]}"#,
                -32602,
                json!("s"),
            ),
            (
                r#"{"jsonrpc":"2.0","id":31,"method":"initialize","params":{}}"#,
                -32602,
                json!(31),
            ),
        ] {
            let reply = answer(line.as_bytes());
            assert_eq!(reply["error"]["code"], code, "{line} → {reply}");
            assert_eq!(reply["id"], id, "{line} → {reply}");
        }
    }

    #[test]
    fn good_messages_pass_and_bad_notifications_drop() {
        for line in [
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":13,"method":"nosuch"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":"r1","result":{"roots":[]}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","arguments":{"limit":1e300}}}"#,
        ] {
            assert_eq!(check(line.as_bytes()), Verdict::Pass, "{line}");
        }
        assert_eq!(
            check(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"\ud83d"}}"#),
            Verdict::Drop
        );
    }

    #[test]
    fn too_long_reads_the_id_from_the_head() {
        let reply: Value = serde_json::from_str(&too_long(
            br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"na"#,
            16 << 20,
        ))
        .unwrap();
        assert_eq!(reply["id"], 9);
        assert_eq!(reply["error"]["code"], -32600);
        let reply: Value = serde_json::from_str(&too_long(b"xxxx", 16 << 20)).unwrap();
        assert!(reply["id"].is_null());
    }
}
