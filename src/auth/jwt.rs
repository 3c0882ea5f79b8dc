//! Minted tokens: short-lived JWTs (HS256) that a token holder hands to a CI job or a sub-agent.
//! They are signed with the JWT secret from the settings, name their parent token's row, carry a
//! subset of its permissions and optionally one project, and die with the parent: `serve`
//! checks the parent row at startup and while running.

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::settings::Secret;

/// Shortest accepted secret: HS256 keys below 256 bits are guessable offline.
pub const MIN_SECRET_BYTES: usize = 32;
/// Clock difference tolerated between the minting and the verifying machine.
pub const LEEWAY_SECS: i64 = 5;
/// Longest lifetime `token mint` accepts.
pub const MAX_TTL_SECS: i64 = 30 * 24 * 3600;

/// The claims of a minted token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id; must equal `MEM0_USER_ID` and the parent token's user.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique id of this minted token (a UUID).
    pub jti: String,
    /// The row id of the parent token in `mcp_auth_tokens`.
    pub parent: i64,
    /// Permission names, a subset of the parent's.
    pub perms: Vec<String>,
    /// When set, the only project the token may be used in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

impl Claims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// A short, non-secret name for logs and the audit log: the first 8 characters of the jti.
    pub fn short_id(&self) -> String {
        format!("jwt-{}", self.jti.chars().take(8).collect::<String>())
    }
}

/// Why a minted token was refused. Messages never quote the token or the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error(
        "no JWT secret is configured: set MEM0_JWT_SECRET (at least 32 bytes, e.g. from `openssl rand -base64 48`)"
    )]
    NoSecret,
    #[error(
        "the JWT secret is {0} bytes long, shorter than 32: use a longer one (e.g. `openssl rand -base64 48`)"
    )]
    SecretTooShort(usize),
    #[error("the minted token expired at {}", .0.expires_at().format("%Y-%m-%d %H:%M:%S UTC"))]
    Expired(Box<Claims>),
    #[error("the minted token is not valid: {0}")]
    Invalid(&'static str),
}

/// The HS256 key, checked for length.
pub struct JwtKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(***)")
    }
}

impl JwtKey {
    pub fn new(secret: Option<&Secret>) -> Result<JwtKey, JwtError> {
        let secret = secret.ok_or(JwtError::NoSecret)?.expose().as_bytes();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(JwtError::SecretTooShort(secret.len()));
        }
        Ok(JwtKey {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }
}

/// True when a credential has the shape of a JWT (three base64url parts, a JSON header) rather
/// than of a database token.
pub fn looks_like_jwt(value: &str) -> bool {
    value.starts_with("eyJ") && value.split('.').count() == 3
}

pub fn mint(key: &JwtKey, claims: &Claims) -> Result<String, JwtError> {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key.encoding)
        .map_err(|_| JwtError::Invalid("it could not be signed"))
}

/// Checks the signature, the algorithm, the required claims and the expiry (with
/// [`LEEWAY_SECS`]). The parent token and the subject are the caller's to check.
pub fn verify(key: &JwtKey, token: &str, now: DateTime<Utc>) -> Result<Claims, JwtError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    // Expiry is checked below, after the signature, so an expired token can still be named in
    // the audit log and the message can say when it expired.
    validation.validate_exp = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).map_err(|e| {
        JwtError::Invalid(match e.kind() {
            ErrorKind::InvalidSignature => {
                "its signature does not match (tampered with, or signed with another secret)"
            }
            ErrorKind::InvalidAlgorithm => "it is not signed with HS256",
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) => {
                "it lacks a required claim"
            }
            ErrorKind::Json(_) => "its claims are not the ones mem0-mcp mints",
            _ => "it is malformed (was it copied completely?)",
        })
    })?;
    let claims = data.claims;
    if claims.exp + LEEWAY_SECS <= now.timestamp() {
        return Err(JwtError::Expired(Box::new(claims)));
    }
    if claims.iat > now.timestamp() + LEEWAY_SECS {
        return Err(JwtError::Invalid("it was issued in the future"));
    }
    Ok(claims)
}

/// Parses `15m`, `2h`, `7d`, `90s` (a whole number and one unit) into seconds, at most 30 days.
pub fn parse_ttl(value: &str) -> Result<i64, String> {
    let value = value.trim();
    let help =
        "use a whole number with a unit s, m, h or d (for example 15m, 2h or 7d), at most 30d";
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("--ttl '{value}' has no unit: {help}"))?;
    let (number, unit) = value.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("--ttl '{value}' does not start with a whole number: {help}"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(format!(
                "--ttl '{value}' has the unknown unit '{unit}': {help}"
            ));
        }
    };
    let secs = number.saturating_mul(unit_secs);
    if secs <= 0 {
        return Err(format!(
            "--ttl '{value}' is not a positive duration: {help}"
        ));
    }
    if secs > MAX_TTL_SECS {
        return Err(format!("--ttl '{value}' is longer than 30 days: {help}"));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> JwtKey {
        JwtKey::new(Some(&Secret::new(secret))).unwrap()
    }

    fn claims(now: DateTime<Utc>, ttl: i64) -> Claims {
        Claims {
            sub: "alice".into(),
            exp: now.timestamp() + ttl,
            iat: now.timestamp(),
            jti: "0f1e2d3c-0000-4000-8000-000000000000".into(),
            parent: 7,
            perms: vec!["read".into()],
            project: Some("widgets".into()),
        }
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn minted_tokens_verify_and_round_trip() {
        let now = Utc::now();
        let k = key(SECRET);
        let jwt = mint(&k, &claims(now, 60)).unwrap();
        assert!(looks_like_jwt(&jwt));
        assert_eq!(verify(&k, &jwt, now), Ok(claims(now, 60)));
        assert_eq!(claims(now, 60).short_id(), "jwt-0f1e2d3c");
    }

    #[test]
    fn expiry_wrong_secret_and_tampering_are_refused() {
        let now = Utc::now();
        let k = key(SECRET);
        let jwt = mint(&k, &claims(now, 60)).unwrap();
        // Within the leeway it still works; after it, it does not.
        assert!(verify(&k, &jwt, now + chrono::Duration::seconds(62)).is_ok());
        assert!(matches!(
            verify(&k, &jwt, now + chrono::Duration::seconds(66)),
            Err(JwtError::Expired(_))
        ));
        let other = key("another secret that is long enough!!");
        assert!(matches!(
            verify(&other, &jwt, now),
            Err(JwtError::Invalid(m)) if m.contains("signature")
        ));
        // Swap the payload for one granting more.
        let mut more = claims(now, 60);
        more.perms = vec!["read".into(), "write".into(), "admin".into()];
        let forged_payload = mint(&other, &more).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let forged: Vec<&str> = forged_payload.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged[1], parts[2]);
        assert!(matches!(
            verify(&k, &tampered, now),
            Err(JwtError::Invalid(_))
        ));
        assert!(verify(&k, "eyJ.garbage.x", now).is_err());
    }

    #[test]
    fn short_and_missing_secrets_are_refused() {
        assert_eq!(JwtKey::new(None).unwrap_err(), JwtError::NoSecret);
        assert_eq!(
            JwtKey::new(Some(&Secret::new("short"))).unwrap_err(),
            JwtError::SecretTooShort(5)
        );
        let message = JwtError::SecretTooShort(5).to_string();
        assert!(!message.contains("short\""), "{message}");
    }

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("15m"), Ok(900));
        assert_eq!(parse_ttl("2h"), Ok(7200));
        assert_eq!(parse_ttl("7d"), Ok(604800));
        assert_eq!(parse_ttl("30d"), Ok(MAX_TTL_SECS));
        assert_eq!(parse_ttl(" 90s "), Ok(90));
        for (bad, want) in [
            ("15", "no unit"),
            ("m", "whole number"),
            ("1.5h", "unknown unit"),
            ("3w", "unknown unit"),
            ("0h", "positive"),
            ("31d", "longer than 30 days"),
            ("99999999999999999999d", "whole number"),
        ] {
            let err = parse_ttl(bad).unwrap_err();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }
}
