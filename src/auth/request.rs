//! Authentication of every request to the team server (`serve --http`). The token comes from
//! `X-MCP-Token` or `Authorization: Bearer`, the optional user id from `X-MCP-UserID`; both are
//! checked against the token tables exactly like `serve`'s startup check (minted JWTs too).
//!
//! - A success is remembered for the recheck interval (`MEM0_AUTH_RECHECK_SECS`, default 30 s,
//!   at most 60 s), so a busy client does not cost a query per call and a revoked token stops
//!   working within that interval. A remembered credential's own expiry time is checked on
//!   every request. Only the SHA-256 of token and user id is kept as the key.
//! - A success updates `last_used_at` (at each re-check) and writes a `success` audit row at
//!   most once per token per hour.
//! - A refusal writes an `auth_failed` row naming the cause and the client address. More than
//!   [`FAILURE_LIMIT`] refusals from one address within [`FAILURE_WINDOW`] block that address
//!   until the window ends (HTTP 429 with `Retry-After`); blocked requests are neither checked
//!   nor audited, so the audit log cannot be flooded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::validate::{AuthError, Authenticated, Credentials, check_request, failure_entry};
use crate::access::Principal;
use crate::settings::Secret;
use crate::store::{AuditEntry, AuditEvent, StoreError, TokenStore};

/// Refusals from one client address tolerated within [`FAILURE_WINDOW`].
pub const FAILURE_LIMIT: u32 = 20;
/// The window over which refusals are counted, and how long an address stays blocked at most.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// A token's `success` audit row is written at most this often.
const SUCCESS_AUDIT_EVERY: Duration = Duration::from_secs(3600);
/// Above this many remembered entries, stale ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// Who a request acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The one project a minted token is limited to.
    pub project_limit: Option<String>,
}

/// Why a request was not let in.
#[derive(Debug)]
pub enum Refusal {
    /// The credentials were refused: HTTP 401 with this message.
    Refused(String),
    /// Too many refusals from this address: HTTP 429, retry after this many seconds.
    Limited { retry_after_secs: u64 },
    /// The token tables could not be read: HTTP 503.
    Unavailable(StoreError),
}

#[derive(Debug)]
struct Remembered {
    caller: Caller,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    checked: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    since: Instant,
    count: u32,
}

/// The per-server authenticator shared by all requests.
pub struct RequestAuthenticator {
    store: Arc<dyn TokenStore>,
    jwt_secret: Option<Secret>,
    global_mode: bool,
    remember_for: Duration,
    remembered: Mutex<HashMap<[u8; 32], Remembered>>,
    audited: Mutex<HashMap<i64, Instant>>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl std::fmt::Debug for RequestAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestAuthenticator")
            .field("global_mode", &self.global_mode)
            .field("remember_for", &self.remember_for)
            .finish_non_exhaustive()
    }
}

impl RequestAuthenticator {
    /// `remember_for` is how long a success is trusted without a query (at most 60 s, so a
    /// revocation reaches the server within a minute); `global_mode` refuses project-limited
    /// minted tokens, as `serve` does.
    pub fn new(
        store: Arc<dyn TokenStore>,
        jwt_secret: Option<Secret>,
        global_mode: bool,
        remember_for: Duration,
    ) -> Self {
        RequestAuthenticator {
            store,
            jwt_secret,
            global_mode,
            remember_for: remember_for
                .min(Duration::from_secs(super::revocation::MAX_RECHECK_SECS)),
            remembered: Mutex::new(HashMap::new()),
            audited: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Authenticates one request from `client` (see the module docs).
    pub async fn authenticate(
        &self,
        client: IpAddr,
        token: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<Caller, Refusal> {
        let now = Instant::now();
        if let Some(retry_after_secs) = self.blocked(client, now) {
            return Err(Refusal::Limited { retry_after_secs });
        }
        let key = token.map(|t| cache_key(t, user_id));
        if let Some(key) = &key
            && let Some(caller) = self.recall(key, now)
        {
            return Ok(caller);
        }
        let secret = token.map(|t| Secret::new(t.to_owned()));
        let credentials = Credentials {
            token: secret.as_ref(),
            user_id,
            jwt_secret: self.jwt_secret.as_ref(),
        };
        match check_request(self.store.as_ref(), credentials, self.global_mode).await {
            Ok(done) => {
                let caller = Caller {
                    principal: done.principal.clone(),
                    project_limit: done.project.clone(),
                };
                self.succeeded(&done, now).await;
                if let Some(key) = key {
                    self.remember(key, &caller, &done, now);
                }
                Ok(caller)
            }
            Err(AuthError::Store(e)) => Err(Refusal::Unavailable(e)),
            Err(error) => {
                self.failed(client, now);
                if let Some(mut entry) = failure_entry(&error, user_id) {
                    entry.message = entry.message.map(|m| format!("{m} (from {client})"));
                    self.audit(&entry).await;
                }
                tracing::info!(client = %client, cause = %cause_of(&error), "request refused");
                Err(Refusal::Refused(http_message(&error)))
            }
        }
    }

    /// A request refused before any token check (credential headers that cannot be read):
    /// counted and audited like any refusal, so it cannot bypass the limit. Returns the
    /// refusal to answer with.
    pub async fn refuse_unreadable(
        &self,
        client: IpAddr,
        user_id: Option<&str>,
        message: String,
    ) -> Refusal {
        let now = Instant::now();
        if let Some(retry_after_secs) = self.blocked(client, now) {
            return Refusal::Limited { retry_after_secs };
        }
        self.failed(client, now);
        let entry = AuditEntry {
            user_id: user_id.map(str::to_owned),
            message: Some(format!("unreadable credential headers (from {client})")),
            ..AuditEntry::new(AuditEvent::AuthFailed)
        };
        self.audit(&entry).await;
        Refusal::Refused(message)
    }

    fn recall(&self, key: &[u8; 32], now: Instant) -> Option<Caller> {
        let mut remembered = self.remembered.lock().ok()?;
        let entry = remembered.get(key)?;
        let fresh = now.duration_since(entry.checked) < self.remember_for
            && entry.expires_at.is_none_or(|at| at > chrono::Utc::now());
        if fresh {
            return Some(entry.caller.clone());
        }
        remembered.remove(key);
        None
    }

    fn remember(&self, key: [u8; 32], caller: &Caller, done: &Authenticated, now: Instant) {
        let Ok(mut remembered) = self.remembered.lock() else {
            return;
        };
        if remembered.len() > PRUNE_ABOVE {
            let keep = self.remember_for;
            remembered.retain(|_, e| now.duration_since(e.checked) < keep);
        }
        remembered.insert(
            key,
            Remembered {
                caller: caller.clone(),
                expires_at: done.session.expires_at,
                checked: now,
            },
        );
    }

    async fn succeeded(&self, done: &Authenticated, now: Instant) {
        if let Err(e) = self
            .store
            .touch_token(done.token.id, crate::memory::now())
            .await
        {
            tracing::warn!(error = %e, "could not update the token's last_used_at");
        }
        let due = {
            let Ok(mut audited) = self.audited.lock() else {
                return;
            };
            let due = audited
                .get(&done.token.id)
                .is_none_or(|at| now.duration_since(*at) >= SUCCESS_AUDIT_EVERY);
            if due {
                audited.insert(done.token.id, now);
            }
            due
        };
        if due {
            let entry = AuditEntry::new(AuditEvent::Success)
                .user(done.principal.user_id.clone())
                .token(done.principal.token_display_id.clone());
            self.audit(&entry).await;
        }
    }

    async fn audit(&self, entry: &AuditEntry) {
        if let Err(e) = self.store.append_audit(entry).await {
            tracing::error!(error = %e, "could not write an authentication audit row");
        }
    }

    /// Seconds until `client` may try again, when it is blocked.
    fn blocked(&self, client: IpAddr, now: Instant) -> Option<u64> {
        let failures = self.failures.lock().ok()?;
        let f = failures.get(&client)?;
        let elapsed = now.duration_since(f.since);
        (f.count >= FAILURE_LIMIT && elapsed < FAILURE_WINDOW)
            .then(|| (FAILURE_WINDOW - elapsed).as_secs().max(1))
    }

    fn failed(&self, client: IpAddr, now: Instant) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, f| now.duration_since(f.since) < FAILURE_WINDOW);
        }
        let entry = failures.entry(client).or_insert(Failures {
            since: now,
            count: 0,
        });
        if now.duration_since(entry.since) >= FAILURE_WINDOW {
            *entry = Failures {
                since: now,
                count: 0,
            };
        }
        entry.count += 1;
        if entry.count == FAILURE_LIMIT {
            tracing::warn!(client = %client, "too many refused requests from this address; refusing it for a minute");
        }
    }
}

fn cache_key(token: &str, user_id: Option<&str>) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(token.as_bytes());
    hash.update([0]);
    if let Some(user) = user_id {
        hash.update([1]);
        hash.update(user.as_bytes());
    }
    hash.finalize().into()
}

/// The short cause for the log (never the token).
fn cause_of(error: &AuthError) -> String {
    let what = error.problem().what;
    what.split_once(')')
        .map(|(cause, _)| format!("{cause})"))
        .unwrap_or(what)
}

/// The message of the 401: the startup check's, worded for headers instead of variables.
pub fn http_message(error: &AuthError) -> String {
    match error {
        AuthError::MissingToken => "authentication failed (missing token): the request has neither an X-MCP-Token header nor Authorization: Bearer; send the token from `mem0-mcp token create` in one of them".into(),
        other => other
            .problem()
            .sentence()
            .replace("MEM0_USER_ID", "X-MCP-UserID")
            .replace("MEM0_TOKEN", "the token header"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_user_and_do_not_hold_the_token() {
        let a = cache_key("mcp_x", None);
        assert_ne!(a, cache_key("mcp_x", Some("")));
        assert_ne!(a, cache_key("mcp_x", Some("alice")));
        assert!(!a.windows(5).any(|w| w == b"mcp_x"));
    }
}
