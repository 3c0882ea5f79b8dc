//! The limits on what a caller may send, checked before anything reaches the database, so bad
//! input fails with a message the model can act on and changes nothing.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::Metadata;

pub const MAX_CONTENT_BYTES: usize = 32 * 1024;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 64;
pub const MAX_METADATA_BYTES: usize = 8 * 1024;
pub const MAX_QUERY_CHARS: usize = 2048;
/// Deepest nesting of objects and arrays inside metadata (the metadata object itself is level 1).
pub const MAX_METADATA_DEPTH: usize = 32;

/// Text in Unicode normalization form C: "Zürich" typed with a precomposed ü and with u plus a
/// combining diaeresis is one string, so it is one memory, one hash and one indexed word.
pub fn nfc(text: &str) -> String {
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        text.to_owned()
    } else {
        text.nfc().collect()
    }
}

/// Trims the content, normalizes it to NFC and checks its size; PostgreSQL cannot store NUL in
/// text, so it is refused on every backend alike.
pub fn validate_content(content: &str) -> Result<String, String> {
    let content = nfc(content.trim());
    let content = content.as_str();
    if content.is_empty() {
        return Err("content is empty: give the text to remember".into());
    }
    if content.contains('\0') {
        return Err("content contains a NUL character (\\u0000): remove it and try again".into());
    }
    if content.len() > MAX_CONTENT_BYTES {
        return Err(format!(
            "content is {} bytes, over the limit of {MAX_CONTENT_BYTES} bytes (32 KiB): store a shorter summary or split it into several memories",
            content.len()
        ));
    }
    Ok(content.to_owned())
}

/// The dedup key of a content within a scope.
pub fn content_hash(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Trims tags, drops repeats (keeping the first spelling) and checks count and length.
pub fn validate_tags(tags: &[String]) -> Result<Vec<String>, String> {
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "{} tags given, over the limit of {MAX_TAGS}: keep the most useful ones",
            tags.len()
        ));
    }
    let mut clean: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = nfc(tag.trim());
        let tag = tag.as_str();
        if tag.is_empty() {
            return Err("a tag is empty: remove it or give it a name".into());
        }
        if tag.contains('\0') {
            return Err("a tag contains a NUL character (\\u0000): remove it".into());
        }
        // Tags are listed and filtered on like names: an invisible or bidirectional character
        // would make one tag look like another.
        if let Some(c) = crate::identifier::first_hidden(tag) {
            return Err(format!(
                "tag '{}' contains the invisible character {}: remove it",
                crate::identifier::echo(tag),
                crate::identifier::code_point(c)
            ));
        }
        let chars = tag.chars().count();
        if chars > MAX_TAG_CHARS {
            return Err(format!(
                "tag '{}…' is {chars} characters, over the limit of {MAX_TAG_CHARS}",
                tag.chars().take(20).collect::<String>()
            ));
        }
        if !clean.iter().any(|t| t == tag) {
            clean.push(tag.to_owned());
        }
    }
    Ok(clean)
}

/// Metadata must be a JSON object of at most 8 KiB, nested at most [`MAX_METADATA_DEPTH`]
/// levels, with no NUL character in any key or string (PostgreSQL's jsonb rejects `\u0000`; the
/// six characters `\u0000` as text are fine).
pub fn validate_metadata(value: &serde_json::Value) -> Result<Metadata, String> {
    let serde_json::Value::Object(map) = value else {
        return Err(format!(
            "metadata must be a JSON object such as {{\"source\": \"review\"}}, not {}",
            json_kind(value)
        ));
    };
    let text = value.to_string();
    if text.len() > MAX_METADATA_BYTES {
        return Err(format!(
            "metadata is {} bytes as JSON, over the limit of {MAX_METADATA_BYTES} bytes (8 KiB): keep only small facts in it",
            text.len()
        ));
    }
    let depth = json_depth(value);
    if depth > MAX_METADATA_DEPTH {
        return Err(format!(
            "metadata is nested {depth} levels deep, over the limit of {MAX_METADATA_DEPTH}: flatten it into fewer levels"
        ));
    }
    if has_nul(value) {
        return Err("metadata contains a NUL character (\\u0000): remove it".into());
    }
    Ok(map.clone())
}

/// Levels of objects and arrays, counted without recursion (a scalar is level 0).
fn json_depth(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1usize)];
    while let Some((value, level)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
            serde_json::Value::Object(map) => Box::new(map.values()),
            serde_json::Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        deepest = deepest.max(level);
        pending.extend(children.map(|child| (child, level + 1)));
    }
    deepest
}

/// Whether any key or string holds the NUL character itself.
fn has_nul(value: &serde_json::Value) -> bool {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            serde_json::Value::String(s) if s.contains('\0') => return true,
            serde_json::Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                pending.extend(map.values());
            }
            serde_json::Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    false
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Trims the query and normalizes it to NFC, like the content it is matched against.
pub fn validate_query(query: &str) -> Result<String, String> {
    let query = nfc(query.trim());
    let query = query.as_str();
    if query.is_empty() {
        return Err("query is empty: give words to search for".into());
    }
    if query.contains('\0') {
        return Err("query contains a NUL character (\\u0000): remove it".into());
    }
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(format!(
            "query is {chars} characters, over the limit of {MAX_QUERY_CHARS}: search with fewer, more specific words"
        ));
    }
    Ok(query.to_owned())
}

pub fn validate_limit(limit: Option<i64>, default: u32, max: u32) -> Result<u32, String> {
    match limit {
        None => Ok(default),
        Some(n) if n >= 1 && n <= i64::from(max) => Ok(n as u32),
        Some(n) => Err(format!("limit {n} is out of range: use 1 to {max}")),
    }
}

/// An expiry time: RFC 3339 with a time zone (`2026-12-31T17:00:00Z`,
/// `2026-12-31T18:00:00+01:00`), strictly after `now`; returned in UTC at the microsecond
/// precision both databases keep.
pub fn validate_expires_at(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let trimmed = text.trim();
    let shown: String = trimmed.chars().take(60).collect();
    let at = DateTime::parse_from_rfc3339(trimmed).map_err(|_| {
        format!(
            "expires_at '{shown}' is not an RFC 3339 time: give a date, time and time zone such as 2026-12-31T17:00:00Z"
        )
    })?;
    let at = at.with_timezone(&Utc);
    let at = DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
    if at <= now {
        return Err(format!(
            "expires_at '{shown}' is not in the future (it is now {}): give a later time, or omit expires_at for a memory that does not expire",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    Ok(at)
}

/// Ids are UUIDs; anything else is refused with the form expected.
pub fn parse_memory_id(id: &str) -> Result<Uuid, String> {
    let trimmed = id.trim();
    Uuid::parse_str(trimmed).map_err(|_| {
        let shown = crate::identifier::echo(trimmed);
        format!(
            "'{shown}' is not a memory id: ids are UUIDs such as 0192f0c1-7b3a-7cde-8f00-1234567890ab, as returned by add_memory, search_memories or list_memories"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_cases() {
        let long = "x".repeat(MAX_CONTENT_BYTES + 1);
        let exact = "é".repeat(MAX_CONTENT_BYTES / 2);
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("  uses pnpm \n", Ok("uses pnpm")),
            ("", Err("empty")),
            (" \t\n", Err("empty")),
            ("a\0b", Err("NUL")),
            (&long, Err("over the limit")),
            (&exact, Ok(&exact)),
        ];
        for (input, expected) in cases {
            match (validate_content(input), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want),
                (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn tags_cases() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(
            validate_tags(&s(&[" a ", "b", "a"])).unwrap(),
            s(&["a", "b"])
        );
        assert!(validate_tags(&s(&[""])).unwrap_err().contains("empty"));
        assert!(validate_tags(&s(&["x\0"])).unwrap_err().contains("NUL"));
        assert!(
            validate_tags(&s(&["ci\u{202E}dev"]))
                .unwrap_err()
                .contains("U+202E")
        );
        let too_many: Vec<String> = (0..=MAX_TAGS).map(|i| i.to_string()).collect();
        assert!(
            validate_tags(&too_many)
                .unwrap_err()
                .contains("limit of 20")
        );
        let long = "t".repeat(MAX_TAG_CHARS + 1);
        assert!(
            validate_tags(&[long])
                .unwrap_err()
                .contains("65 characters")
        );
        assert!(validate_tags(&["ü".repeat(MAX_TAG_CHARS)]).is_ok());
    }

    #[test]
    fn text_is_normalized_to_nfc() {
        let nfd = "Zu\u{308}rich";
        assert_eq!(validate_content(nfd).unwrap(), "Z\u{fc}rich");
        assert_eq!(validate_query(nfd).unwrap(), "Z\u{fc}rich");
        assert_eq!(
            validate_tags(&["Z\u{fc}rich".into(), nfd.into()]).unwrap(),
            vec!["Z\u{fc}rich".to_string()]
        );
        assert_eq!(
            content_hash(&validate_content(nfd).unwrap()),
            content_hash(&validate_content("Z\u{fc}rich").unwrap())
        );
    }

    #[test]
    fn metadata_cases() {
        assert!(validate_metadata(&json!({"a": 1})).is_ok());
        for (bad, why) in [
            (json!([1]), "an array"),
            (json!("x"), "a string"),
            (json!(null), "null"),
            (json!({"a": "b\u{0}"}), "NUL"),
            (json!({"a": "x".repeat(MAX_METADATA_BYTES)}), "8 KiB"),
            (json!({"k\u{0}": 1}), "NUL"),
            (json!({"a": [[{"b": "\u{0}"}]]}), "NUL"),
        ] {
            assert!(validate_metadata(&bad).unwrap_err().contains(why), "{bad}");
        }
        // The six characters backslash-u-0-0-0-0 are text, not a NUL.
        assert!(validate_metadata(&json!({"path": "C:\\u0000dir"})).is_ok());
        let mut deep = json!(1);
        for _ in 0..MAX_METADATA_DEPTH {
            deep = json!({ "a": deep });
        }
        assert!(validate_metadata(&deep).is_ok());
        let deeper = json!({ "a": deep });
        assert!(
            validate_metadata(&deeper)
                .unwrap_err()
                .contains("33 levels deep")
        );
    }

    #[test]
    fn query_limit_and_id_cases() {
        assert_eq!(validate_query("  pnpm ").unwrap(), "pnpm");
        assert!(validate_query("").is_err());
        assert!(validate_query(&"q".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert_eq!(validate_limit(None, 10, 100), Ok(10));
        assert_eq!(validate_limit(Some(100), 10, 100), Ok(100));
        assert!(validate_limit(Some(0), 10, 100).is_err());
        assert!(validate_limit(Some(101), 10, 100).is_err());
        assert!(validate_limit(Some(-5), 10, 100).is_err());
        assert!(
            parse_memory_id("not-an-id")
                .unwrap_err()
                .contains("not a memory id")
        );
        let id = Uuid::now_v7();
        assert_eq!(parse_memory_id(&format!(" {id} ")), Ok(id));
    }

    #[test]
    fn expiry_cases() {
        let now = DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ok = validate_expires_at(" 2026-06-01T13:00:00+01:00 ", now);
        assert!(ok.is_err(), "equal to now is not in the future: {ok:?}");
        assert_eq!(
            validate_expires_at("2026-06-01T14:00:00.1234567+01:00", now)
                .unwrap()
                .to_rfc3339(),
            "2026-06-01T13:00:00.123456+00:00"
        );
        for (bad, why) in [
            ("2026-05-31T12:00:00Z", "not in the future"),
            ("tomorrow", "not an RFC 3339 time"),
            ("2026-07-01", "not an RFC 3339 time"),
            ("2026-07-01T10:00:00", "not an RFC 3339 time"),
            ("", "not an RFC 3339 time"),
        ] {
            let error = validate_expires_at(bad, now).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn hash_is_stable_hex() {
        assert_eq!(
            content_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
