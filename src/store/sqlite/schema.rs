//! The schema on SQLite: which embedded migrations are applied, and applying the rest in one
//! write transaction (SQLite's write lock keeps a second process from migrating at once).

use sqlx::sqlite::SqlitePool;

use super::SqliteStore;
use super::rows::{AppliedRow, time_to_text};
use crate::store::StoreError;
use crate::store::migrations::{AppliedMigration, Migration, SQLITE};

/// The migrations recorded as applied, oldest first; none when the bookkeeping table is absent.
pub(super) async fn applied(pool: &SqlitePool) -> Result<Vec<AppliedMigration>, StoreError> {
    let exists: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'mem0_schema_migrations'",
    )
    .fetch_one(pool)
    .await?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<AppliedRow> = sqlx::query_as(
        "SELECT version, checksum, applied_at FROM mem0_schema_migrations ORDER BY version",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Applies the embedded migrations not applied yet and returns them, in version order.
pub(super) async fn migrate(store: &SqliteStore) -> Result<Vec<&'static Migration>, StoreError> {
    let (mut tx, interrupt) = store.write_tx().await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS mem0_schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT    NOT NULL,
            checksum   TEXT    NOT NULL,
            applied_at TEXT    NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM mem0_schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    let mut applied_now = Vec::new();
    for migration in SQLITE.iter().filter(|m| !done.contains(&m.version)) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sql))
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::MigrationFailed {
                migration: format!("{}_{}", migration.version, migration.name),
                source,
            })?;
        sqlx::query(
            "INSERT INTO mem0_schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(migration.checksum())
        .bind(time_to_text(crate::memory::now()))
        .execute(&mut *tx)
        .await?;
        applied_now.push(migration);
    }
    tx.commit().await?;
    interrupt.done();
    Ok(applied_now)
}
