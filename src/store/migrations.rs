//! The schema migrations of each backend, embedded in the binary, the bookkeeping that says
//! which are applied, and the policy of who applies them ([`ensure_current`]): the embedded
//! database migrates itself, a shared PostgreSQL is migrated deliberately. Migrations are
//! append-only: a released file never changes, so a checksum mismatch means the database was
//! migrated by a different build of the same version.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Backend, MemoryStore, StoreError};

/// How long the first query may go unanswered before one direct connection attempt checks
/// whether the server is down (see [`MemoryStore::diagnose_unreachable`]).
const DIAGNOSE_AFTER: Duration = Duration::from_millis(1500);

#[derive(Debug, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        Sha256::digest(self.sql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

macro_rules! migration {
    ($backend:literal, $version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!(
                "../../migrations/",
                $backend,
                "/",
                stringify!($version),
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

pub static POSTGRES: &[Migration] = &[
    migration!("postgres", 20261123000001, "memories"),
    migration!("postgres", 20261124000001, "auth"),
    migration!("postgres", 20261125000001, "scoped_search"),
    migration!("postgres", 20261126000001, "scope_counts"),
    migration!("postgres", 20261126000002, "gin_direct_updates"),
    migration!("postgres", 20261201000001, "token_public_id"),
    migration!("postgres", 20261202000001, "search_extra"),
    migration!("postgres", 20261204000001, "memory_vectors"),
    migration!("postgres", 20261205000001, "memory_expiry"),
    migration!("postgres", 20261206000001, "scope_changes"),
    migration!("postgres", 20261207000001, "vector_changes"),
];
pub static SQLITE: &[Migration] = &[
    migration!("sqlite", 20261123000001, "memories"),
    migration!("sqlite", 20261124000001, "auth"),
    migration!("sqlite", 20261125000001, "scoped_search"),
    migration!("sqlite", 20261126000001, "scope_counts"),
    migration!("sqlite", 20261126000002, "gin_direct_updates"),
    migration!("sqlite", 20261201000001, "token_public_id"),
    migration!("sqlite", 20261202000001, "search_extra"),
    migration!("sqlite", 20261204000001, "memory_vectors"),
    migration!("sqlite", 20261205000001, "memory_expiry"),
    migration!("sqlite", 20261206000001, "scope_changes"),
    migration!("sqlite", 20261207000001, "vector_changes"),
];

/// The table that records applied migrations, the same on both backends.
pub const BOOKKEEPING_TABLE: &str = "mem0_schema_migrations";

/// A row of the bookkeeping table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub checksum: String,
    pub applied_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    Applied {
        at: DateTime<Utc>,
    },
    Pending,
    /// Applied, but from a file whose text differs from this binary's.
    Modified {
        at: DateTime<Utc>,
    },
}

/// Every known migration with its state, plus versions the database has that this binary does
/// not know (it is older than the schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    pub migrations: Vec<(&'static Migration, MigrationState)>,
    pub unknown_versions: Vec<i64>,
}

impl SchemaStatus {
    pub fn new(known: &'static [Migration], applied: &[AppliedMigration]) -> Self {
        let migrations = known
            .iter()
            .map(|m| {
                let state = match applied.iter().find(|a| a.version == m.version) {
                    None => MigrationState::Pending,
                    Some(a) if a.checksum == m.checksum() => {
                        MigrationState::Applied { at: a.applied_at }
                    }
                    Some(a) => MigrationState::Modified { at: a.applied_at },
                };
                (m, state)
            })
            .collect();
        let unknown_versions = applied
            .iter()
            .filter(|a| !known.iter().any(|m| m.version == a.version))
            .map(|a| a.version)
            .collect();
        SchemaStatus {
            migrations,
            unknown_versions,
        }
    }

    pub fn pending(&self) -> Vec<&'static Migration> {
        self.migrations
            .iter()
            .filter(|(_, s)| *s == MigrationState::Pending)
            .map(|(m, _)| *m)
            .collect()
    }

    pub fn is_current(&self) -> bool {
        self.pending().is_empty()
    }
}

/// Makes sure the schema is current before a command uses the database. The embedded database
/// belongs to this user: it is brought up to date here. A shared PostgreSQL is migrated
/// deliberately by someone allowed to run DDL, never by each client process: an outdated one is
/// [`StoreError::Outdated`].
///
/// On PostgreSQL the first query connects; if it has not answered within 1.5 s, one direct
/// connection attempt tells a down server (reported at once, as [`StoreError::Unavailable`] or
/// the login's refusal) from a busy one (keep waiting for the pool).
pub async fn ensure_current(store: &dyn MemoryStore) -> Result<(), StoreError> {
    match store.backend() {
        Backend::Sqlite => {
            if !store.schema_status().await?.is_current() {
                store.migrate().await?;
            }
            Ok(())
        }
        Backend::Postgres => {
            let status = tokio::select! {
                status = store.schema_status() => status,
                Err(unreachable) = async {
                    tokio::time::sleep(DIAGNOSE_AFTER).await;
                    store.diagnose_unreachable().await
                } => Err(unreachable),
            }?;
            if status.is_current() {
                Ok(())
            } else {
                Err(StoreError::Outdated {
                    pending: status.pending().len(),
                    total: status.migrations.len(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sorts_applied_pending_modified_and_unknown() {
        let now = Utc::now();
        let first = &POSTGRES[0];
        let mut applied: Vec<AppliedMigration> = POSTGRES
            .iter()
            .map(|m| AppliedMigration {
                version: m.version,
                checksum: m.checksum(),
                applied_at: now,
            })
            .collect();
        applied.push(AppliedMigration {
            version: 99990101000000,
            checksum: "x".into(),
            applied_at: now,
        });
        let status = SchemaStatus::new(POSTGRES, &applied);
        assert_eq!(status.migrations[0].1, MigrationState::Applied { at: now });
        assert!(status.is_current());
        assert_eq!(status.unknown_versions, vec![99990101000000]);

        let first_only = SchemaStatus::new(POSTGRES, &applied[..1]);
        assert_eq!(first_only.pending().len(), POSTGRES.len() - 1);

        let none = SchemaStatus::new(POSTGRES, &[]);
        assert_eq!(none.pending().len(), POSTGRES.len());
        assert!(!none.is_current());

        let modified = SchemaStatus::new(
            POSTGRES,
            &[AppliedMigration {
                version: first.version,
                checksum: "other".into(),
                applied_at: now,
            }],
        );
        assert_eq!(
            modified.migrations[0].1,
            MigrationState::Modified { at: now }
        );
    }

    #[test]
    fn versions_are_increasing_and_backends_match() {
        for list in [POSTGRES, SQLITE] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        }
        let pg: Vec<_> = POSTGRES.iter().map(|m| (m.version, m.name)).collect();
        let lite: Vec<_> = SQLITE.iter().map(|m| (m.version, m.name)).collect();
        assert_eq!(pg, lite, "each migration exists for both backends");
    }
}
