//! Minted tokens: short-lived JWTs (HS256) that a token holder hands to a CI job or a sub-agent.
//! They name their parent token by its random public id, carry a subset of its permissions and
//! optionally one project, live at most 30 days, and die with the parent: `serve` checks the
//! parent row at startup and while running.
//!
//! The signing key is not the JWT secret itself but SHA-256 over the secret and the parent
//! token's stored hash ([`JwtKey::for_parent`]). So a process that holds the secret, but neither
//! the parent token nor the database, cannot sign a token anyone accepts: it would have to know
//! the hash of a token it never saw.

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::settings::Secret;
use crate::store::TokenHash;

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
    /// The public id of the parent token (`mcp_auth_tokens.public_id`): random, so it reveals
    /// nothing and cannot be guessed.
    pub parent: String,
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

/// The JWT secret, checked for length; [`JwtKey::for_parent`] derives the key that signs and
/// checks the tokens minted from one parent.
pub struct JwtKey {
    secret: Vec<u8>,
}

/// The HS256 key of the tokens minted from one parent token.
pub struct ParentKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for ParentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParentKey(***)")
    }
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
            secret: secret.to_vec(),
        })
    }

    /// The key for tokens minted from the parent whose stored hash is `parent`:
    /// SHA-256(domain ‖ len(secret) ‖ secret ‖ parent hash).
    pub fn for_parent(&self, parent: &TokenHash) -> ParentKey {
        let mut hasher = Sha256::new();
        hasher.update(b"mem0-mcp minted token key v2\0");
        hasher.update((self.secret.len() as u64).to_be_bytes());
        hasher.update(&self.secret);
        hasher.update(parent.as_str().as_bytes());
        let key = hasher.finalize();
        ParentKey {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }
}

/// The parent a minted token names, read before its signature can be checked (the key depends
/// on the parent). Nothing else of the claims is trusted until [`verify`] has passed.
pub fn claimed_parent(token: &str) -> Result<String, JwtError> {
    #[derive(Deserialize)]
    struct ParentOnly {
        parent: String,
    }
    let malformed = JwtError::Invalid("it is malformed (was it copied completely?)");
    let payload = token.split('.').nth(1).ok_or(malformed.clone())?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| malformed.clone())?;
    let claims: ParentOnly = serde_json::from_slice(&bytes)
        .map_err(|_| JwtError::Invalid("its claims are not the ones mem0-mcp mints"))?;
    let well_formed = claims.parent.len() == 32
        && claims
            .parent
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(JwtError::Invalid(
            "its parent is not a token id mem0-mcp mints",
        ));
    }
    Ok(claims.parent)
}

/// True when a credential has the shape of a JWT (three base64url parts, a JSON header) rather
/// than of a database token.
pub fn looks_like_jwt(value: &str) -> bool {
    value.starts_with("eyJ") && value.split('.').count() == 3
}

pub fn mint(key: &ParentKey, claims: &Claims) -> Result<String, JwtError> {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key.encoding)
        .map_err(|_| JwtError::Invalid("it could not be signed"))
}

/// Checks the signature, the algorithm, the required claims, the expiry (with
/// [`LEEWAY_SECS`]) and the lifetime (at most [`MAX_TTL_SECS`] from `iat`, which may not lie in
/// the future). The parent token and the subject are the caller's to check.
pub fn verify(key: &ParentKey, token: &str, now: DateTime<Utc>) -> Result<Claims, JwtError> {
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
    if claims.exp.saturating_sub(claims.iat) > MAX_TTL_SECS {
        return Err(JwtError::Invalid(
            "it claims a lifetime longer than 30 days",
        ));
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

    fn key(secret: &str) -> ParentKey {
        key_for(secret, "mcp_parent")
    }

    fn key_for(secret: &str, parent_token: &str) -> ParentKey {
        JwtKey::new(Some(&Secret::new(secret)))
            .unwrap()
            .for_parent(&TokenHash::of(parent_token))
    }

    const PARENT: &str = "0123456789abcdef0123456789abcdef";

    fn claims(now: DateTime<Utc>, ttl: i64) -> Claims {
        Claims {
            sub: "alice".into(),
            exp: now.timestamp() + ttl,
            iat: now.timestamp(),
            jti: "0f1e2d3c-0000-4000-8000-000000000000".into(),
            parent: PARENT.into(),
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
        assert_eq!(claimed_parent(&jwt).unwrap(), PARENT);
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
    fn the_secret_alone_cannot_sign() {
        let now = Utc::now();
        // The real secret, but a guess at the parent (its hash is only in the database).
        let forged = mint(&key_for(SECRET, "mcp_guess"), &claims(now, 60)).unwrap();
        assert!(matches!(
            verify(&key(SECRET), &forged, now),
            Err(JwtError::Invalid(m)) if m.contains("signature")
        ));
        // The verifier caps the lifetime itself.
        let mut long = claims(now, MAX_TTL_SECS + 3600);
        long.iat = now.timestamp();
        let jwt = mint(&key(SECRET), &long).unwrap();
        assert_eq!(
            verify(&key(SECRET), &jwt, now),
            Err(JwtError::Invalid(
                "it claims a lifetime longer than 30 days"
            ))
        );
        for bad in ["x", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.eyJwYXJlbnQiOjd9.x"] {
            assert!(claimed_parent(bad).is_err(), "{bad}");
        }
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
