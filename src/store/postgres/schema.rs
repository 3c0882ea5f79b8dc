//! The schema on PostgreSQL: which embedded migrations are applied, and applying the rest in
//! one transaction under an advisory lock, so two processes starting at once never both migrate.

use sqlx::postgres::PgPool;

use super::rows::AppliedRow;
use crate::store::StoreError;
use crate::store::migrations::{AppliedMigration, BOOKKEEPING_TABLE, Migration, POSTGRES};

/// The migrations recorded as applied, oldest first; none when the bookkeeping table is absent.
pub(super) async fn applied(pool: &PgPool) -> Result<Vec<AppliedMigration>, StoreError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(BOOKKEEPING_TABLE)
        .fetch_one(pool)
        .await?;
    if !exists {
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
pub(super) async fn migrate(pool: &PgPool) -> Result<Vec<&'static Migration>, StoreError> {
    let mut applied_now = Vec::new();
    let mut tx = pool.begin().await?;
    // One migrator at a time, whoever runs it.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('mem0-mcp migrations', 0))")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS mem0_schema_migrations (
            version    bigint      PRIMARY KEY,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *tx)
    .await?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM mem0_schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for migration in POSTGRES.iter().filter(|m| !done.contains(&m.version)) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sql))
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::MigrationFailed {
                migration: format!("{}_{}", migration.version, migration.name),
                source,
            })?;
        sqlx::query(
            "INSERT INTO mem0_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(migration.checksum())
        .execute(&mut *tx)
        .await?;
        applied_now.push(migration);
    }
    tx.commit().await?;
    Ok(applied_now)
}
