//! The embedded database's file and connections: the file and its directory created owner-only
//! and refused when others control them, a pooled connection checked before reuse, and the
//! interrupt guard that stops a dropped call's statement.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::StoreError;

/// Creates the data directory and the database file with owner-only permissions before SQLite
/// opens it, so there is no moment when another user could read it.
/// Refuses a database, or the directory holding it, that another user owns or can write to
/// (both are checked when they exist; before creating anything, and again after).
pub fn check_private(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::check_private(dir, "the data directory").map_err(StoreError::NotPrivate)?;
    }
    crate::files::check_private(path, "the embedded database").map_err(StoreError::NotPrivate)
}

pub(super) fn create_private_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// Whether a connection handed back to the pool may be used again. SQLite rolls a transaction
/// back by itself when a write fails for lack of disk space (or on an I/O error), so the
/// rollback sqlx then sends fails and sqlx still counts the connection as inside a transaction:
/// every later `BEGIN` on it would fail. Such a connection is closed instead (the pool opens a
/// fresh one). The ping first lets the rollback queued by a dropped transaction run.
/// The interrupt armed by `SqliteStore::armed` is taken off here too.
pub(super) async fn still_usable(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("closing a database connection left inside a failed transaction");
        return Ok(false);
    }
    conn.lock_handle().await?.remove_progress_handler();
    Ok(true)
}

/// SQLite virtual-machine steps between two looks at the interrupt flag.
pub(super) const INTERRUPT_CHECK_OPS: i32 = 1000;

/// Interrupts the statement running on its connection when dropped before [`Interrupt::done`]:
/// a tool call that is cancelled or times out drops its store future, and with it this guard,
/// so SQLite stops the statement (and rolls back its transaction) instead of running it to the
/// end on a core while later calls wait.
#[derive(Debug)]
pub(super) struct Interrupt {
    pub(super) flag: Arc<AtomicBool>,
    pub(super) done: bool,
}

impl Interrupt {
    /// The work finished: nothing to interrupt.
    pub(super) fn done(mut self) {
        self.done = true;
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        if !self.done {
            self.flag.store(true, Ordering::Relaxed);
        }
    }
}
