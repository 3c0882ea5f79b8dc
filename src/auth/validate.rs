//! Startup validation: turns `MEM0_TOKEN` and `MEM0_USER_ID` into the [`Principal`] a session
//! acts as, or an [`AuthError`] naming the cause (missing, invalid, disabled, expired, user
//! mismatch). Every attempt writes one audit row; a success also touches `last_used_at`.

use std::fmt;

use chrono::{DateTime, Utc};

use super::Session;
use super::jwt::{self, Claims, JwtError, JwtKey};
use super::token::{Token, TokenFormatError};
use crate::access::{Permissions, Principal};
use crate::problem::Problem;
use crate::settings::{Secret, Settings};
use crate::store::{AuditEntry, AuditEvent, StoreError, TokenRecord, TokenStatus, TokenStore};

/// What the caller presented.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub token: Option<&'a Secret>,
    pub user_id: Option<&'a str>,
    pub jwt_secret: Option<&'a Secret>,
}

impl<'a> Credentials<'a> {
    /// The credentials in the settings: `MEM0_TOKEN`, `MEM0_USER_ID` and `MEM0_JWT_SECRET`.
    pub fn from_settings(settings: &'a Settings) -> Self {
        Credentials {
            token: settings.token.as_ref(),
            user_id: settings.user_id.as_deref(),
            jwt_secret: settings.jwt_secret.as_ref(),
        }
    }
}

/// Why the credentials were refused. [`AuthError::problem`] says what failed (the cause in
/// parentheses first) and how to fix it; `Display` is the one line `serve` prints,
/// `authentication failed (cause): what; fix`. Nothing secret is ever part of either.
#[derive(Debug)]
pub enum AuthError {
    MissingToken,
    MissingUser,
    Malformed(TokenFormatError),
    Unknown {
        display_id: String,
    },
    Disabled {
        display_id: String,
    },
    Expired {
        display_id: String,
        at: DateTime<Utc>,
    },
    UserMismatch {
        display_id: String,
        user_id: String,
        /// The token's real owner: for the audit log only, never shown to the caller.
        owner: String,
    },
    Jwt(JwtError),
    JwtExpired {
        display_id: String,
        at: DateTime<Utc>,
    },
    Parent {
        display_id: String,
        parent: String,
        state: ParentState,
    },
    ProjectLimitGlobal {
        display_id: String,
        project: String,
    },
    /// The token tables could not be read or written.
    Store(StoreError),
}

impl AuthError {
    /// What failed and how to fix it: `what` reads `authentication failed (cause): …`, e.g.
    /// `authentication failed (expired token): token mcp_AbCd1234 expired at …`; a store
    /// failure is the store's problem.
    pub fn problem(&self) -> Problem {
        match self {
            AuthError::Store(e) => e.problem(),
            refused => {
                let Problem { what, fix } = refused.cause();
                Problem::new(format!("authentication failed {what}"), fix)
            }
        }
    }

    /// The cause in parentheses and what failed, e.g. `(expired token): token … expired at …`.
    fn cause(&self) -> Problem {
        let time = |at: &DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        match self {
            AuthError::MissingToken => Problem::new(
                "(missing token): MEM0_TOKEN is not set, and a PostgreSQL database requires one",
                "create a token with `mem0-mcp token create --user-id YOUR_ID` and set MEM0_TOKEN and MEM0_USER_ID in the client's configuration",
            ),
            AuthError::MissingUser => Problem::new(
                "(missing user id): MEM0_USER_ID is not set",
                "set it to the user id the token was created for (`mem0-mcp token list` shows it)",
            ),
            AuthError::Malformed(why) => Problem::new(
                format!("(invalid token): MEM0_TOKEN is not a mem0-mcp token: {why}"),
                "copy it again from the output of `mem0-mcp token create`",
            ),
            AuthError::Unknown { display_id } => Problem::new(
                format!(
                    "(invalid token): no token {display_id} exists in this database (it was deleted, or created for another database)"
                ),
                "create one with `mem0-mcp token create --user-id YOUR_ID`",
            ),
            AuthError::Disabled { display_id } => Problem::new(
                format!("(disabled token): token {display_id} has been revoked"),
                format!(
                    "have it re-enabled with `mem0-mcp token enable {display_id}`, or create a new one"
                ),
            ),
            AuthError::Expired { display_id, at } => Problem::new(
                format!(
                    "(expired token): token {display_id} expired at {}",
                    time(at)
                ),
                "create a new one with `mem0-mcp token create --user-id YOUR_ID` and update MEM0_TOKEN",
            ),
            AuthError::UserMismatch {
                display_id,
                user_id,
                ..
            } => Problem::new(
                format!(
                    "(user id mismatch): token {display_id} does not belong to MEM0_USER_ID '{user_id}'"
                ),
                format!(
                    "set MEM0_USER_ID to the user the token was created for (`mem0-mcp token list` shows it), or create a token for {user_id}"
                ),
            ),
            AuthError::Jwt(why) => Problem::new(
                format!("(invalid token): {why}"),
                "mint a new one with `mem0-mcp token mint`, with the same MEM0_JWT_SECRET as this server",
            ),
            AuthError::JwtExpired { display_id, at } => Problem::new(
                format!(
                    "(expired token): the minted token {display_id} expired at {}",
                    time(at)
                ),
                "mint a new one with `mem0-mcp token mint --ttl …`",
            ),
            AuthError::Parent {
                display_id,
                parent,
                state,
            } => Problem::new(
                format!(
                    "({} token): the minted token {display_id} came from token {parent}, which {}",
                    parent_cause(state),
                    parent_state(state)
                ),
                "a minted token dies with its parent: mint a new one from a valid token",
            ),
            AuthError::ProjectLimitGlobal {
                display_id,
                project,
            } => Problem::new(
                format!(
                    "(project limit): the minted token {display_id} is limited to project '{project}' and cannot be used with PROJECT_ID_MODE=global"
                ),
                "unset PROJECT_ID_MODE or mint a token without --project",
            ),
            AuthError::Store(e) => e.problem(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Store(e) => write!(f, "{e}"),
            refused => write!(f, "{}", refused.problem().sentence()),
        }
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthError::Malformed(e) => Some(e),
            AuthError::Jwt(e) => Some(e),
            AuthError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        AuthError::Store(error)
    }
}

/// What is wrong with a minted token's parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentState {
    Disabled,
    Expired,
}

fn parent_cause(state: &ParentState) -> &'static str {
    match state {
        ParentState::Disabled => "disabled",
        ParentState::Expired => "expired",
    }
}

fn parent_state(state: &ParentState) -> &'static str {
    match state {
        ParentState::Disabled => "has been revoked",
        ParentState::Expired => "has expired",
    }
}

impl AuthError {
    /// The short reason written to the audit log (never the token).
    fn audit_reason(&self) -> String {
        match self {
            AuthError::MissingToken => "missing token".into(),
            AuthError::MissingUser => "missing user id".into(),
            AuthError::Malformed(_) => "malformed token".into(),
            AuthError::Unknown { .. } => "invalid token: no such token".into(),
            AuthError::Disabled { .. } => "token disabled".into(),
            AuthError::Expired { .. } => "token expired".into(),
            AuthError::UserMismatch { owner, .. } => {
                format!("user id mismatch: the token belongs to {owner}")
            }
            AuthError::Jwt(e) => format!("minted token refused: {e}"),
            AuthError::JwtExpired { .. } => "minted token expired".into(),
            AuthError::Parent { parent, state, .. } => {
                format!("parent token {parent} {}", parent_state(state))
            }
            AuthError::ProjectLimitGlobal { .. } => {
                "minted token limited to a project, used in global mode".into()
            }
            AuthError::Store(_) => "database error".into(),
        }
    }

    fn display_id(&self) -> Option<&str> {
        match self {
            AuthError::Unknown { display_id }
            | AuthError::Disabled { display_id }
            | AuthError::Expired { display_id, .. }
            | AuthError::UserMismatch { display_id, .. }
            | AuthError::JwtExpired { display_id, .. }
            | AuthError::Parent { display_id, .. }
            | AuthError::ProjectLimitGlobal { display_id, .. } => Some(display_id),
            _ => None,
        }
    }
}

/// Why the credentials are being checked: `serve` records a `success` row, `token mint` a
/// `token_minted` row of its own instead. `Request` is one HTTP request to the team server: the
/// user id is optional (the token's owner), and the caller writes the audit rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Serve,
    Mint,
    Request,
}

/// A successful authentication.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    /// What the running server keeps checking.
    pub session: Session,
    /// The project a minted token is limited to.
    pub project: Option<String>,
    /// The database token itself (for a minted token: its parent).
    pub token: TokenRecord,
}

/// Validates the credentials against the token tables and writes the audit row.
/// `global_mode` is whether the session would act on the shared pool (a project-limited minted
/// token may not).
pub async fn authenticate(
    store: &dyn TokenStore,
    credentials: Credentials<'_>,
    purpose: Purpose,
    global_mode: bool,
) -> Result<Authenticated, AuthError> {
    let now = crate::memory::now();
    let result = check(store, credentials, purpose, global_mode, now).await;
    let entry = match &result {
        Ok(auth) if purpose == Purpose::Serve => Some(
            AuditEntry::new(AuditEvent::Success)
                .user(auth.principal.user_id.clone())
                .token(auth.principal.token_display_id.clone()),
        ),
        Ok(_) => None,
        Err(error) => failure_entry(error, credentials.user_id),
    };
    if let Some(entry) = entry
        && let Err(e) = store.append_audit(&entry).await
    {
        // An attempt that cannot be recorded is not let in.
        tracing::error!(error = %e, "could not write the authentication audit row");
        return Err(result.err().unwrap_or(AuthError::Store(e)));
    }
    if let Ok(auth) = &result {
        store.touch_token(auth.token.id, now).await?;
        if purpose == Purpose::Serve {
            tracing::info!(
                user.id = %auth.principal.user_id,
                token.id = auth.principal.token_display_id.as_deref().unwrap_or_default(),
                permissions = %auth.principal.permissions.names().join(","),
                "authenticated"
            );
        }
    }
    result
}

/// The `auth_failed` audit row of a refusal (none for a database failure): the claimed user,
/// the token's display id when known, and the reason; never the token.
pub fn failure_entry(error: &AuthError, claimed_user: Option<&str>) -> Option<AuditEntry> {
    if matches!(error, AuthError::Store(_)) {
        return None;
    }
    Some(AuditEntry {
        user_id: claimed_user.map(str::to_owned),
        token_prefix: error.display_id().map(str::to_owned),
        message: Some(error.audit_reason()),
        ..AuditEntry::new(AuditEvent::AuthFailed)
    })
}

/// Checks the credentials of one HTTP request, recording nothing (the caller audits, at most
/// once an hour per token for successes). Without a user id the user is the token's owner.
pub async fn check_request(
    store: &dyn TokenStore,
    credentials: Credentials<'_>,
    global_mode: bool,
) -> Result<Authenticated, AuthError> {
    check(
        store,
        credentials,
        Purpose::Request,
        global_mode,
        crate::memory::now(),
    )
    .await
}

/// Checks the credentials exactly as [`authenticate`] does for `serve`, but records nothing:
/// no audit row, no `last_used_at`. For diagnostics (`doctor`) and for `init` deciding whether
/// a stored token still works.
pub async fn verify(
    store: &dyn TokenStore,
    credentials: Credentials<'_>,
    global_mode: bool,
) -> Result<Authenticated, AuthError> {
    check(
        store,
        credentials,
        Purpose::Serve,
        global_mode,
        crate::memory::now(),
    )
    .await
}

async fn check(
    store: &dyn TokenStore,
    credentials: Credentials<'_>,
    purpose: Purpose,
    global_mode: bool,
    now: DateTime<Utc>,
) -> Result<Authenticated, AuthError> {
    let raw = credentials.token.ok_or(AuthError::MissingToken)?.expose();
    let user_id = match (credentials.user_id, purpose) {
        (Some(user), _) => Some(user),
        (None, Purpose::Serve) => return Err(AuthError::MissingUser),
        (None, Purpose::Mint | Purpose::Request) => None,
    };
    if jwt::looks_like_jwt(raw) {
        if purpose == Purpose::Mint {
            return Err(AuthError::Jwt(JwtError::Invalid(
                "a minted token cannot mint further tokens: set MEM0_TOKEN to a token from `mem0-mcp token create`",
            )));
        }
        return check_jwt(
            store,
            raw,
            user_id,
            credentials.jwt_secret,
            global_mode,
            now,
        )
        .await;
    }
    let token = Token::parse(raw).map_err(AuthError::Malformed)?;
    let display_id = token.display_id();
    let record = store
        .token_by_hash(&token.hash())
        .await?
        .ok_or_else(|| AuthError::Unknown {
            display_id: display_id.clone(),
        })?;
    usable(&record, now)?;
    if let Some(user) = user_id
        && user != record.user_id
    {
        return Err(AuthError::UserMismatch {
            display_id,
            user_id: user.to_owned(),
            owner: record.user_id,
        });
    }
    Ok(Authenticated {
        principal: Principal {
            user_id: record.user_id.clone(),
            permissions: record.permissions,
            token_display_id: Some(display_id.clone()),
        },
        session: Session {
            display_id,
            token_id: record.id,
            expires_at: record.expires_at,
        },
        project: None,
        token: record,
    })
}

/// Refuses a disabled or expired token.
fn usable(record: &TokenRecord, now: DateTime<Utc>) -> Result<(), AuthError> {
    match record.status(now) {
        TokenStatus::Enabled => Ok(()),
        TokenStatus::Disabled => Err(AuthError::Disabled {
            display_id: record.token_prefix.clone(),
        }),
        TokenStatus::Expired => Err(AuthError::Expired {
            display_id: record.token_prefix.clone(),
            at: record.expires_at.unwrap_or(now),
        }),
    }
}

/// A minted token: its parent is found by the public id it names, the signature is checked with
/// the key derived from the JWT secret and that parent's stored hash, and only then is anything
/// else of its claims believed.
async fn check_jwt(
    store: &dyn TokenStore,
    raw: &str,
    user_id: Option<&str>,
    secret: Option<&Secret>,
    global_mode: bool,
    now: DateTime<Utc>,
) -> Result<Authenticated, AuthError> {
    let key = JwtKey::new(secret).map_err(AuthError::Jwt)?;
    let parent_id = jwt::claimed_parent(raw).map_err(AuthError::Jwt)?;
    let Some((parent, parent_hash)) = store.token_by_public_id(&parent_id).await? else {
        return Err(AuthError::Jwt(JwtError::Invalid(
            "its parent token does not exist (deleted, or never issued)",
        )));
    };
    let claims = match jwt::verify(&key.for_parent(&parent_hash), raw, now) {
        Ok(claims) => claims,
        Err(JwtError::Expired(claims)) => {
            return Err(AuthError::JwtExpired {
                display_id: jwt_display_id(&parent, &claims),
                at: claims.expires_at(),
            });
        }
        Err(e) => return Err(AuthError::Jwt(e)),
    };
    if claims.sub != parent.user_id || claims.parent != parent.public_id {
        // Only a signer holding the parent's hash gets here; name nobody's token.
        return Err(AuthError::Jwt(JwtError::Invalid(
            "its subject is not its parent token's user",
        )));
    }
    let display_id = jwt_display_id(&parent, &claims);
    let parent_error = |state| AuthError::Parent {
        display_id: display_id.clone(),
        parent: parent.token_prefix.clone(),
        state,
    };
    match parent.status(now) {
        TokenStatus::Enabled => {}
        TokenStatus::Disabled => return Err(parent_error(ParentState::Disabled)),
        TokenStatus::Expired => return Err(parent_error(ParentState::Expired)),
    }
    let parent = &parent;
    if let Some(user) = user_id
        && user != claims.sub
    {
        return Err(AuthError::UserMismatch {
            display_id,
            user_id: user.to_owned(),
            owner: claims.sub,
        });
    }
    let claimed = Permissions::from_json(&serde_json::json!(claims.perms))
        .map_err(|_| AuthError::Jwt(JwtError::Invalid("it names an unknown permission")))?;
    // A parent that lost a permission since the minting takes it from its minted tokens too.
    let effective = claimed.intersect(parent.permissions);
    effective.check_usable().map_err(|_| {
        AuthError::Jwt(JwtError::Invalid(
            "its parent token no longer has the permissions it was minted with",
        ))
    })?;
    if let Some(project) = &claims.project {
        crate::project::validate_project_id(project).map_err(|_| {
            AuthError::Jwt(JwtError::Invalid(
                "its project limit is not a valid project id",
            ))
        })?;
        if global_mode {
            return Err(AuthError::ProjectLimitGlobal {
                display_id,
                project: project.clone(),
            });
        }
    }
    let expires_at = match parent.expires_at {
        Some(at) => at.min(claims.expires_at()),
        None => claims.expires_at(),
    };
    Ok(Authenticated {
        principal: Principal {
            user_id: claims.sub.clone(),
            permissions: effective,
            token_display_id: Some(display_id.clone()),
        },
        session: Session {
            display_id,
            token_id: parent.id,
            expires_at: Some(expires_at),
        },
        project: claims.project.clone(),
        token: parent.clone(),
    })
}

/// A minted token is named after its parent and its own short id, e.g.
/// `mcp_AbCd1234/jwt-0f1e2d3c`, so audit rows and memory history say both who and which
/// delegation acted.
fn jwt_display_id(parent: &TokenRecord, claims: &Claims) -> String {
    format!("{}/{}", parent.token_prefix, claims.short_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_cause_the_problem_and_its_fix_in_one_line() {
        let disabled = AuthError::Disabled {
            display_id: "mcp_AAAAAAAA".into(),
        };
        assert_eq!(
            disabled.to_string(),
            "authentication failed (disabled token): token mcp_AAAAAAAA has been revoked; have it re-enabled with `mem0-mcp token enable mcp_AAAAAAAA`, or create a new one"
        );
        let parent = AuthError::Parent {
            display_id: "mcp_AAAAAAAA/jwt-1".into(),
            parent: "mcp_AAAAAAAA".into(),
            state: ParentState::Expired,
        };
        assert_eq!(
            parent.to_string(),
            "authentication failed (expired token): the minted token mcp_AAAAAAAA/jwt-1 came from token mcp_AAAAAAAA, which has expired; a minted token dies with its parent: mint a new one from a valid token"
        );
        let problem = parent.problem();
        assert!(
            problem
                .what
                .starts_with("authentication failed (expired token): "),
            "{problem:?}"
        );
        assert!(problem.fix.ends_with("mint a new one from a valid token"));
    }

    #[test]
    fn messages_name_the_cause_and_never_the_token() {
        let cases: Vec<(AuthError, &str)> = vec![
            (AuthError::MissingToken, "(missing token)"),
            (AuthError::MissingUser, "(missing user id)"),
            (
                AuthError::Malformed(TokenFormatError::Prefix),
                "(invalid token)",
            ),
            (
                AuthError::Unknown {
                    display_id: "mcp_AAAAAAAA".into(),
                },
                "(invalid token)",
            ),
            (
                AuthError::Disabled {
                    display_id: "mcp_AAAAAAAA".into(),
                },
                "(disabled token)",
            ),
            (
                AuthError::Expired {
                    display_id: "mcp_AAAAAAAA".into(),
                    at: Utc::now(),
                },
                "(expired token)",
            ),
            (
                AuthError::UserMismatch {
                    display_id: "mcp_AAAAAAAA".into(),
                    user_id: "bob".into(),
                    owner: "alice".into(),
                },
                "(user id mismatch)",
            ),
            (
                AuthError::Parent {
                    display_id: "mcp_AAAAAAAA/jwt-1".into(),
                    parent: "mcp_AAAAAAAA".into(),
                    state: ParentState::Disabled,
                },
                "(disabled token)",
            ),
        ];
        for (error, cause) in cases {
            let message = error.to_string();
            assert!(message.starts_with("authentication failed "), "{message}");
            assert!(message.contains(cause), "{message}");
            assert!(!message.contains('\n'), "{message}");
            // The owner of a token is for the audit log, not for whoever holds it.
            assert!(!message.contains("alice"), "{message}");
        }
    }
}
