//! The token lifecycle, each step with its audit row: [`issue`] a token (`token_created`; the
//! plaintext exists once, in its return value), [`resolve`] the one token a reference names,
//! [`revoke`], [`enable`] and [`delete`] it (`token_revoked`, `token_enabled`, `token_deleted`,
//! written in the same transaction as the change), and [`mint`] a short-lived JWT from it
//! (`token_minted`). Commands only parse their arguments, call these and print the outcome.

use chrono::Utc;

use super::acting::os_user_name;
use super::jwt::{self, Claims, JwtError, JwtKey};
use super::token::{DISPLAY_ID_CHARS, Token};
use super::validate::{AuthError, Credentials, Purpose, authenticate};
use crate::access::Permissions;
use crate::settings::Secret;
use crate::store::{
    AuditEntry, AuditEvent, NewToken, StoreError, TokenHash, TokenRecord, TokenStore,
};

/// Why a token operation did nothing. Messages show at most a display id, never a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The OS has no randomness to give.
    #[error("the operating system's random generator failed: {0}")]
    Random(getrandom::Error),
    /// No token matches the reference (shown as at most a display id).
    #[error("no token matches {shown}: nothing was changed (`mem0-mcp token list` shows the ids)")]
    NotFound { shown: String },
    /// Something that cannot name a token: neither a token nor a display id.
    #[error(
        "'{shown}' is not a token reference: give the full token or its display id (mcp_ and the next 8 characters, as `mem0-mcp token list` shows); nothing was changed"
    )]
    NotAReference { shown: String },
    /// A display id that several tokens share; the full token tells them apart.
    #[error(
        "{shown} matches {count} tokens (users: {users}): use the full token to choose one; nothing was changed"
    )]
    Ambiguous {
        shown: String,
        count: usize,
        /// The users of the matching tokens, comma-separated.
        users: String,
    },
    /// The token was deleted between finding it and changing it.
    #[error("token {display_id} was deleted meanwhile: nothing was changed")]
    Gone { display_id: String },
    /// `token mint` without a `MEM0_TOKEN` to mint from.
    #[error(
        "token mint needs the parent token in MEM0_TOKEN (and MEM0_USER_ID): set them as for serve"
    )]
    NoParentToken,
    /// The parent token was refused (or the token tables could not be read).
    #[error("{0}")]
    Auth(#[from] AuthError),
    /// More permissions asked for than the parent token has.
    #[error("a minted token can only have permissions its parent has ({parent}), not {wanted}")]
    BeyondParent { parent: String, wanted: String },
    /// The JWT could not be signed.
    #[error("{0}")]
    Jwt(JwtError),
    /// The token tables could not be read or written.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The user the token acts for.
    pub user_id: String,
    /// A person's or machine's name, shown by `token list`.
    pub name: Option<String>,
    /// Contact address, for the record.
    pub email: Option<String>,
    /// Days until it expires; 0: never.
    pub expires_days: u32,
    /// What the token may do (a usable set: it includes read).
    pub permissions: Permissions,
    /// Who created it, for the record. Default: the OS user name.
    pub created_by: Option<String>,
}

/// Creates a token and its `token_created` audit row, in one transaction. The returned
/// [`Token`] is the only time the plaintext exists: the database keeps its hash.
///
/// Errors: [`TokenError::Random`] when the OS has no randomness to give,
/// [`TokenError::Store`] when the row cannot be written.
pub async fn issue(
    tokens: &dyn TokenStore,
    request: &TokenRequest,
) -> Result<(Token, TokenRecord), TokenError> {
    let token = Token::generate().map_err(TokenError::Random)?;
    let now = crate::memory::now();
    let created_by = request.created_by.clone().unwrap_or_else(os_user_name);
    let new = NewToken {
        hash: token.hash(),
        public_id: crate::store::new_public_id().map_err(TokenError::Random)?,
        display_id: token.display_id(),
        user_id: request.user_id.clone(),
        name: request.name.clone(),
        email: request.email.clone(),
        created_at: now,
        expires_at: (request.expires_days > 0)
            .then(|| now + chrono::Duration::days(i64::from(request.expires_days))),
        created_by: Some(created_by.clone()),
        permissions: request.permissions,
    };
    let audit = AuditEntry::new(AuditEvent::TokenCreated)
        .user(request.user_id.clone())
        .token(Some(token.display_id()))
        .message(format!(
            "created by {created_by} with permissions {}",
            request.permissions.names().join(",")
        ));
    let record = tokens.insert_token(&new, &audit).await?;
    Ok((token, record))
}

/// How a reference is shown back: never more than a display id, so a full token given on the
/// command line is not echoed.
pub fn shown(reference: &str) -> String {
    if reference.chars().count() > DISPLAY_ID_CHARS {
        format!(
            "{}…",
            reference.chars().take(DISPLAY_ID_CHARS).collect::<String>()
        )
    } else {
        reference.to_owned()
    }
}

/// Finds the one token a reference names: the full token (found by its hash), or its display
/// id (`mcp_` and the next 8 characters; anything longer that is not a whole token is matched on
/// those 12 characters, the only ones stored besides the hash).
///
/// Errors: [`TokenError::NotAReference`] for something that cannot name a token,
/// [`TokenError::NotFound`], [`TokenError::Ambiguous`] when a display id matches several tokens
/// (the full token tells them apart), [`TokenError::Store`].
pub async fn resolve(tokens: &dyn TokenStore, reference: &str) -> Result<TokenRecord, TokenError> {
    let reference = reference.trim();
    let not_found = || TokenError::NotFound {
        shown: shown(reference),
    };
    if let Ok(token) = Token::parse(reference) {
        return tokens
            .token_by_hash(&token.hash())
            .await?
            .ok_or_else(not_found);
    }
    if !Token::looks_like_one(reference) || reference.chars().count() < DISPLAY_ID_CHARS {
        return Err(TokenError::NotAReference {
            shown: shown(reference),
        });
    }
    let display_id: String = reference.chars().take(DISPLAY_ID_CHARS).collect();
    let mut matches = tokens.tokens_by_display_id(&display_id).await?;
    match matches.len() {
        0 => Err(not_found()),
        1 => Ok(matches.remove(0)),
        count => Err(TokenError::Ambiguous {
            shown: shown(reference),
            count,
            users: matches
                .iter()
                .map(|m| m.user_id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Disables a token and writes `token_revoked`; servers using it stop within a minute.
///
/// Errors: [`TokenError::Gone`] when the token was deleted since it was resolved,
/// [`TokenError::Store`].
pub async fn revoke(tokens: &dyn TokenStore, record: &TokenRecord) -> Result<(), TokenError> {
    set_enabled(tokens, record, false, AuditEvent::TokenRevoked).await
}

/// Re-enables a token and writes `token_enabled` (an expired token stays unusable).
///
/// Errors: as [`revoke`].
pub async fn enable(tokens: &dyn TokenStore, record: &TokenRecord) -> Result<(), TokenError> {
    set_enabled(tokens, record, true, AuditEvent::TokenEnabled).await
}

async fn set_enabled(
    tokens: &dyn TokenStore,
    record: &TokenRecord,
    enabled: bool,
    event: AuditEvent,
) -> Result<(), TokenError> {
    let entry = lifecycle_entry(event, record);
    if tokens.set_token_enabled(record.id, enabled, &entry).await? {
        Ok(())
    } else {
        Err(gone(record))
    }
}

/// Deletes a token for good and writes `token_deleted`; its earlier audit rows stay.
///
/// Errors: as [`revoke`].
pub async fn delete(tokens: &dyn TokenStore, record: &TokenRecord) -> Result<(), TokenError> {
    let entry = lifecycle_entry(AuditEvent::TokenDeleted, record);
    if tokens.delete_token(record.id, &entry).await? {
        Ok(())
    } else {
        Err(gone(record))
    }
}

/// A lifecycle row names the token, its user and who changed it.
fn lifecycle_entry(event: AuditEvent, record: &TokenRecord) -> AuditEntry {
    AuditEntry::new(event)
        .user(record.user_id.clone())
        .token(Some(record.token_prefix.clone()))
        .message(format!("by {}", os_user_name()))
}

fn gone(record: &TokenRecord) -> TokenError {
    TokenError::Gone {
        display_id: record.token_prefix.clone(),
    }
}

/// Which permissions a minted token asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MintPermissions {
    /// The parent's without admin: handing out admin takes asking for it.
    ParentWithoutAdmin,
    /// Only `read`.
    ReadOnly,
    /// Exactly these, which must be a subset of the parent's.
    Exactly(Permissions),
}

impl MintPermissions {
    /// The permissions a token minted from a parent holding `parent` gets.
    ///
    /// Errors: [`TokenError::BeyondParent`] when more than the parent has is asked for.
    pub fn for_parent(self, parent: Permissions) -> Result<Permissions, TokenError> {
        let wanted = match self {
            MintPermissions::ParentWithoutAdmin => Permissions {
                admin: false,
                ..parent
            },
            MintPermissions::ReadOnly => Permissions::READ_ONLY,
            MintPermissions::Exactly(permissions) => permissions,
        };
        if wanted.is_subset_of(parent) {
            Ok(wanted)
        } else {
            Err(TokenError::BeyondParent {
                parent: parent.names().join(","),
                wanted: wanted.names().join(","),
            })
        }
    }
}

/// What to mint.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// Lifetime in seconds, at most [`jwt::MAX_TTL_SECS`] (see [`jwt::parse_ttl`]).
    pub ttl_secs: i64,
    pub permissions: MintPermissions,
    /// The one project the token may be used in (a valid project id).
    pub project: Option<String>,
}

/// A minted token and what it carries.
#[derive(Debug)]
pub struct Minted {
    /// The JWT itself, shown once.
    pub jwt: Secret,
    /// Its claims (subject, expiry, parent, project).
    pub claims: Claims,
    /// What it may do.
    pub permissions: Permissions,
}

/// The database token a JWT is minted from: the `MEM0_TOKEN` (with `MEM0_USER_ID`) in the
/// credentials, authenticated without a `success` row (the mint writes its own).
///
/// Errors: [`TokenError::NoParentToken`], [`TokenError::Auth`] naming why the token was refused
/// (a minted token cannot mint further tokens).
pub async fn mint_parent(
    tokens: &dyn TokenStore,
    credentials: Credentials<'_>,
) -> Result<(TokenRecord, TokenHash), TokenError> {
    let Some(token) = credentials.token else {
        return Err(TokenError::NoParentToken);
    };
    let done = authenticate(tokens, credentials, Purpose::Mint, false).await?;
    // Authenticated, so it is a database token.
    let hash = Token::parse(token.expose())
        .map(|t| t.hash())
        .map_err(|e| TokenError::Auth(AuthError::Malformed(e)))?;
    Ok((done.token, hash))
}

/// Mints a JWT from `parent` (whose stored hash is `parent_hash`, which keys the signature) and
/// writes its `token_minted` row, which names the parent and the minted token's short id,
/// permissions, project and expiry.
///
/// Errors: [`TokenError::BeyondParent`], [`TokenError::Jwt`] when it cannot be signed,
/// [`TokenError::Store`] when the audit row cannot be written (the token is then not shown).
pub async fn mint(
    tokens: &dyn TokenStore,
    key: &JwtKey,
    parent: &TokenRecord,
    parent_hash: &TokenHash,
    request: &MintRequest,
) -> Result<Minted, TokenError> {
    let permissions = request.permissions.for_parent(parent.permissions)?;
    let now = Utc::now();
    let claims = Claims {
        sub: parent.user_id.clone(),
        exp: now.timestamp() + request.ttl_secs.min(jwt::MAX_TTL_SECS),
        iat: now.timestamp(),
        jti: uuid::Uuid::new_v4().to_string(),
        parent: parent.public_id.clone(),
        perms: permissions.names().into_iter().map(String::from).collect(),
        project: request.project.clone(),
    };
    let minted = jwt::mint(&key.for_parent(parent_hash), &claims).map_err(TokenError::Jwt)?;
    let entry = AuditEntry::new(AuditEvent::TokenMinted)
        .user(parent.user_id.clone())
        .token(Some(parent.token_prefix.clone()))
        .message(format!(
            "minted {} ({}; {}; expires {})",
            claims.short_id(),
            permissions.names().join(","),
            project_phrase(&claims),
            expiry_phrase(&claims)
        ));
    tokens.append_audit(&entry).await?;
    Ok(Minted {
        jwt: Secret::new(minted),
        claims,
        permissions,
    })
}

/// `project P` or `any project`, as the audit row and the command's note say it.
pub fn project_phrase(claims: &Claims) -> String {
    claims
        .project
        .as_deref()
        .map(|p| format!("project {p}"))
        .unwrap_or_else(|| "any project".into())
}

/// The expiry as the audit row and the command's note say it.
pub fn expiry_phrase(claims: &Claims) -> String {
    claims
        .expires_at()
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_shown_at_most_as_a_display_id() {
        let token = Token::generate().unwrap();
        assert_eq!(shown(token.expose()), format!("{}…", token.display_id()));
        assert_eq!(shown("mcp_abc"), "mcp_abc");
    }

    #[test]
    fn minted_permissions_never_exceed_the_parent() {
        let read = Permissions::READ_ONLY;
        assert_eq!(
            MintPermissions::ParentWithoutAdmin
                .for_parent(Permissions::ALL)
                .unwrap(),
            Permissions::READ_WRITE
        );
        assert_eq!(
            MintPermissions::ReadOnly
                .for_parent(Permissions::ALL)
                .unwrap(),
            read
        );
        assert_eq!(
            MintPermissions::Exactly(Permissions::ALL)
                .for_parent(Permissions::ALL)
                .unwrap(),
            Permissions::ALL
        );
        assert!(
            MintPermissions::Exactly(Permissions::READ_WRITE)
                .for_parent(read)
                .is_err()
        );
    }
}
