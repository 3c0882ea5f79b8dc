//! Revocation while a server runs. A background task re-reads the session's token row every
//! few seconds (default 30, `MEM0_AUTH_RECHECK_SECS`) and marks the session revoked when the
//! token was disabled, deleted or has expired; every tool call checks that mark and the
//! token's expiry time in memory, so no call waits for the database. A database that cannot be
//! reached during a recheck changes nothing: a blip must not lock users out.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{TokenStatus, TokenStore};

/// Default seconds between two checks of the token row.
pub const DEFAULT_RECHECK_SECS: u64 = 30;
/// A revoked token must stop working within a minute, so the interval may not exceed this.
pub const MAX_RECHECK_SECS: u64 = 60;

/// What a running session authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Shown in messages.
    pub display_id: String,
    /// The token row to re-check (a minted token's parent).
    pub token_id: i64,
    /// When the session's credential stops working by itself.
    pub expires_at: Option<DateTime<Utc>>,
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Revocation {
    what: &'static str,
    noticed_at: DateTime<Utc>,
}

/// The shared state every tool call consults.
#[derive(Debug)]
pub struct SessionGuard {
    session: Session,
    revoked: OnceLock<Revocation>,
}

impl SessionGuard {
    pub fn new(session: Session) -> Arc<SessionGuard> {
        Arc::new(SessionGuard {
            session,
            revoked: OnceLock::new(),
        })
    }

    /// `Err` with the message for the tool result once the session's token no longer works.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), String> {
        let id = &self.session.display_id;
        if let Some(revocation) = self.revoked.get() {
            return Err(format!(
                "this session's token {id} was {} (noticed at {}): ask for a new token, set it as MEM0_TOKEN and restart the client",
                revocation.what,
                revocation.noticed_at.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        match self.session.expires_at {
            Some(at) if at <= now => Err(format!(
                "this session's token {id} expired at {}: ask for a new token, set it as MEM0_TOKEN and restart the client",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            _ => Ok(()),
        }
    }

    fn revoke(&self, what: &'static str) {
        if self
            .revoked
            .set(Revocation {
                what,
                noticed_at: Utc::now(),
            })
            .is_ok()
        {
            tracing::warn!(
                token.id = %self.session.display_id,
                "this session's token was {what}; tool calls are refused from now on"
            );
        }
    }

    /// One look at the token row. Returns false once the session is over.
    pub async fn recheck(&self, store: &dyn TokenStore) -> bool {
        match store.token_by_id(self.session.token_id).await {
            Ok(None) => self.revoke("deleted"),
            Ok(Some(record)) => match record.status(Utc::now()) {
                TokenStatus::Enabled => {}
                TokenStatus::Disabled => self.revoke("revoked"),
                TokenStatus::Expired => self.revoke("expired"),
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not re-check the session's token; keeping the last known state");
            }
        }
        self.revoked.get().is_none()
    }
}

/// Starts the background recheck; it stops by itself once the token is revoked.
pub fn spawn_recheck(
    guard: Arc<SessionGuard>,
    store: Arc<dyn TokenStore>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            if !guard.recheck(store.as_ref()).await {
                break;
            }
        }
    })
}

/// The recheck interval from `MEM0_AUTH_RECHECK_SECS` (1 to 60 seconds).
pub fn recheck_interval(value: Option<&str>) -> Result<Duration, String> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(Duration::from_secs(DEFAULT_RECHECK_SECS));
    };
    raw.parse::<u64>()
        .ok()
        .filter(|s| (1..=MAX_RECHECK_SECS).contains(s))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            format!(
                "MEM0_AUTH_RECHECK_SECS is '{raw}': use a whole number of seconds from 1 to {MAX_RECHECK_SECS}"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: Option<DateTime<Utc>>) -> Session {
        Session {
            display_id: "mcp_AAAAAAAA".into(),
            token_id: 1,
            expires_at,
        }
    }

    #[test]
    fn expiry_is_checked_without_the_database() {
        let now = Utc::now();
        let guard = SessionGuard::new(session(Some(now + chrono::Duration::seconds(10))));
        assert!(guard.check(now).is_ok());
        let err = guard
            .check(now + chrono::Duration::seconds(11))
            .unwrap_err();
        assert!(err.contains("mcp_AAAAAAAA expired at"), "{err}");
        assert!(SessionGuard::new(session(None)).check(now).is_ok());
    }

    #[test]
    fn a_revocation_sticks() {
        let guard = SessionGuard::new(session(None));
        guard.revoke("revoked");
        guard.revoke("deleted");
        let err = guard.check(Utc::now()).unwrap_err();
        assert!(err.contains("was revoked"), "{err}");
        assert!(err.contains("restart the client"), "{err}");
    }

    /// A real embedded database with one token in it.
    async fn store_with_a_token(
        dir: &std::path::Path,
    ) -> (crate::store::SqliteStore, crate::store::TokenRecord) {
        use crate::store::MemoryStore;
        let store = crate::store::SqliteStore::open(&dir.join("memories.db"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let request = crate::auth::tokens::TokenRequest {
            user_id: "alice".into(),
            name: None,
            email: None,
            expires_days: 0,
            permissions: crate::access::Permissions::READ_WRITE,
            created_by: Some("test".into()),
        };
        let (_, record) = crate::auth::tokens::issue(&store, &request).await.unwrap();
        (store, record)
    }

    fn session_of(record: &crate::store::TokenRecord) -> Session {
        Session {
            display_id: record.token_prefix.clone(),
            token_id: record.id,
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn rechecks_keep_state_through_failures_and_notice_revocation() {
        use crate::auth::tokens;
        let dir = tempfile::tempdir().unwrap();
        let (store, record) = store_with_a_token(dir.path()).await;
        let guard = SessionGuard::new(session_of(&record));
        assert!(guard.recheck(&store).await);

        // A database that fails every read (its file is gone) changes nothing.
        let gone_dir = dir.path().join("gone");
        let failing = crate::store::SqliteStore::open(&gone_dir.join("memories.db"))
            .await
            .unwrap();
        std::fs::remove_dir_all(&gone_dir).unwrap();
        assert!(failing.token_by_id(record.id).await.is_err());
        assert!(guard.recheck(&failing).await, "a failure changes nothing");
        assert!(guard.check(Utc::now()).is_ok());

        tokens::revoke(&store, &record).await.unwrap();
        assert!(!guard.recheck(&store).await);
        assert!(guard.check(Utc::now()).unwrap_err().contains("revoked"));
        // Re-enabling does not revive a session: the client restarts with a fresh check.
        tokens::enable(&store, &record).await.unwrap();
        assert!(!guard.recheck(&store).await);

        let deleted = SessionGuard::new(session_of(&record));
        tokens::delete(&store, &record).await.unwrap();
        assert!(!deleted.recheck(&store).await);
        assert!(deleted.check(Utc::now()).unwrap_err().contains("deleted"));
    }

    #[test]
    fn intervals() {
        assert_eq!(recheck_interval(None), Ok(Duration::from_secs(30)));
        assert_eq!(recheck_interval(Some("1")), Ok(Duration::from_secs(1)));
        assert_eq!(recheck_interval(Some(" 60 ")), Ok(Duration::from_secs(60)));
        for bad in ["0", "61", "soon", "-1"] {
            assert!(recheck_interval(Some(bad)).is_err(), "{bad}");
        }
    }
}
