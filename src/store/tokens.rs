//! The token tables behind one [`TokenStore`] trait: `mcp_auth_tokens` (one row per token, keyed
//! by the SHA-256 of the token; the token itself is never stored) and `mcp_auth_audit_log`
//! (every authentication attempt, token lifecycle event and bulk delete). Lifecycle changes and
//! their audit row are written in one transaction.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::StoreError;
use crate::access::Permissions;

/// The SHA-256 of a token, as 64 lowercase hex digits: what the database stores and looks up,
/// so the token itself is never stored (crates.io keeps its `HashedToken` the same way). A
/// fast hash is enough because tokens carry 256 random bits; nothing here is a password.
/// `auth::Token::hash` is how a token becomes one. The hash also keys the signatures of the
/// tokens minted from it (see `auth::jwt`), so its `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(***)")
    }
}

/// A new random public id for a token row: 32 hex digits (128 random bits), opaque, what a
/// minted token names its parent by.
///
/// # Errors
///
/// The OS has no randomness to give.
pub fn new_public_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl TokenHash {
    /// The hash of a plaintext token (the whole token, prefix included).
    pub fn of(plaintext: &str) -> TokenHash {
        TokenHash(
            Sha256::digest(plaintext.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    /// A hash read back from the database.
    pub fn from_stored(hex: String) -> TokenHash {
        TokenHash(hex)
    }

    /// The 64 hex digits, as bound in queries.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored token, without anything that could be used to authenticate.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: i64,
    /// Random and opaque (see [`new_public_id`]): how a minted token names its parent.
    pub public_id: String,
    /// The display id: the token's first 12 characters.
    pub token_prefix: String,
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub is_enabled: bool,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    pub permissions: Permissions,
}

/// What `token list` shows and what authentication checks, in that order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Enabled,
    Disabled,
    Expired,
}

impl TokenStatus {
    /// `enabled`, `disabled` or `expired`, as `token list` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Enabled => "enabled",
            TokenStatus::Disabled => "disabled",
            TokenStatus::Expired => "expired",
        }
    }
}

impl TokenRecord {
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        if !self.is_enabled {
            TokenStatus::Disabled
        } else if self.expires_at.is_some_and(|at| at <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Enabled
        }
    }
}

/// A token about to be stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub hash: TokenHash,
    /// From [`new_public_id`].
    pub public_id: String,
    pub display_id: String,
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    pub permissions: Permissions,
}

/// The `event_type` of an audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    Success,
    AuthFailed,
    TokenCreated,
    TokenRevoked,
    TokenEnabled,
    TokenDeleted,
    TokenMinted,
    BulkDelete,
}

impl AuditEvent {
    /// Every event, in the order of the enum.
    pub const ALL: [AuditEvent; 8] = [
        AuditEvent::Success,
        AuditEvent::AuthFailed,
        AuditEvent::TokenCreated,
        AuditEvent::TokenRevoked,
        AuditEvent::TokenEnabled,
        AuditEvent::TokenDeleted,
        AuditEvent::TokenMinted,
        AuditEvent::BulkDelete,
    ];

    /// The name stored in `event_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::Success => "success",
            AuditEvent::AuthFailed => "auth_failed",
            AuditEvent::TokenCreated => "token_created",
            AuditEvent::TokenRevoked => "token_revoked",
            AuditEvent::TokenEnabled => "token_enabled",
            AuditEvent::TokenDeleted => "token_deleted",
            AuditEvent::TokenMinted => "token_minted",
            AuditEvent::BulkDelete => "bulk_delete",
        }
    }

    /// The event a stored `event_type` names, if any.
    pub fn parse(value: &str) -> Option<AuditEvent> {
        AuditEvent::ALL.into_iter().find(|e| e.as_str() == value)
    }
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the audit log. `token_prefix` is a display id, never a token.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub user_id: Option<String>,
    pub event: AuditEvent,
    pub token_prefix: Option<String>,
    pub message: Option<String>,
}

impl AuditEntry {
    pub fn new(event: AuditEvent) -> Self {
        AuditEntry {
            at: crate::memory::now(),
            user_id: None,
            event,
            token_prefix: None,
            message: None,
        }
    }

    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    pub fn token(mut self, display_id: Option<impl Into<String>>) -> Self {
        self.token_prefix = display_id.map(Into::into);
        self
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
}

/// Authentication counts of one user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthStats {
    pub successes: u64,
    pub failures: u64,
    pub last_success: Option<DateTime<Utc>>,
}

/// The token and audit tables of one database. Lookups return a [`TokenRecord`] whatever its
/// status: whether a disabled or expired token may act is authentication's decision.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// Stores a token and its `token_created` row.
    async fn insert_token(
        &self,
        token: &NewToken,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError>;
    /// The token with this hash (how a presented token is found).
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;
    /// The token with this row id (how a minted token's parent is found).
    async fn token_by_id(&self, id: i64) -> Result<Option<TokenRecord>, StoreError>;
    /// The token with this public id, and its hash (which keys the signatures of the tokens
    /// minted from it): how a minted token's parent is found and its signature checked.
    async fn token_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<(TokenRecord, TokenHash)>, StoreError>;
    /// Tokens whose display id is exactly `display_id`.
    async fn tokens_by_display_id(&self, display_id: &str) -> Result<Vec<TokenRecord>, StoreError>;
    /// Every token (of one user), oldest first.
    async fn list_tokens(&self, user_id: Option<&str>) -> Result<Vec<TokenRecord>, StoreError>;
    /// Enables or disables a token and writes `audit`; false if the token no longer exists.
    async fn set_token_enabled(
        &self,
        id: i64,
        enabled: bool,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Deletes a token and writes `audit`; false if it no longer exists.
    async fn delete_token(&self, id: i64, audit: &AuditEntry) -> Result<bool, StoreError>;
    /// Records a successful authentication.
    async fn touch_token(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Writes one audit row.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The audit rows since `since` (of one user), newest first, at most `limit`.
    async fn audit_log(
        &self,
        since: DateTime<Utc>,
        user_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// A user's successful and failed authentications since `since`, and their last success
    /// ever.
    async fn auth_stats(
        &self,
        user_id: &str,
        since: DateTime<Utc>,
    ) -> Result<AuthStats, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex_of_the_whole_token() {
        // printf mcp_test | sha256sum
        assert_eq!(
            TokenHash::of("mcp_test").as_str(),
            "bb9c9abad60424739d208a28953a4fef9e624189af10a5f4818d258534d352ea"
        );
    }

    #[test]
    fn event_names_round_trip() {
        for event in AuditEvent::ALL {
            assert_eq!(AuditEvent::parse(event.as_str()), Some(event));
        }
        assert_eq!(AuditEvent::parse("login"), None);
    }

    #[test]
    fn status_prefers_disabled_over_expired() {
        let now = Utc::now();
        let mut record = TokenRecord {
            id: 1,
            public_id: "0".repeat(32),
            token_prefix: "mcp_AAAAAAAA".into(),
            user_id: "u".into(),
            name: None,
            email: None,
            created_at: now,
            expires_at: None,
            is_enabled: true,
            last_used_at: None,
            created_by: None,
            permissions: Permissions::READ_WRITE,
        };
        assert_eq!(record.status(now), TokenStatus::Enabled);
        record.expires_at = Some(now);
        assert_eq!(record.status(now), TokenStatus::Expired);
        record.is_enabled = false;
        assert_eq!(record.status(now), TokenStatus::Disabled);
    }
}
