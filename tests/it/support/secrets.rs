//! Looking for secrets in text: every form a secret could take in output (as is, and
//! percent-encoded the ways a URL carries it), and the assertion that none of them is there.

/// Percent-encodes everything but RFC 3986 unreserved characters (for building URLs).
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// The ways a secret could show up in text: as is, and percent-encoded (upper- and lower-case
/// hex, with `%20` or `+` for a space).
pub fn leak_forms(secret: &str) -> Vec<String> {
    let mut upper = String::new();
    let mut lower = String::new();
    let mut form = String::new();
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            upper.push(byte as char);
            lower.push(byte as char);
            form.push(byte as char);
        } else {
            upper.push_str(&format!("%{byte:02X}"));
            lower.push_str(&format!("%{byte:02x}"));
            if byte == b' ' {
                form.push('+');
            } else {
                form.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let mut forms = vec![secret.to_string(), upper, lower, form];
    forms.sort();
    forms.dedup();
    forms
}

/// Asserts that no form of any of `secrets` appears in `text`; the failure names the secret's
/// length and form, never the secret itself.
#[track_caller]
pub fn assert_no_secret(text: &str, secrets: &[&str], context: &str) {
    for secret in secrets {
        for form in leak_forms(secret) {
            assert!(
                !text.contains(&form),
                "a secret ({} chars, as {form:?}) leaked into the output of {context}",
                secret.len()
            );
        }
    }
}
