//! The token tables in the embedded SQLite file.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use tracing::instrument;

use super::SqliteStore;
use super::rows::{AuditRow, StatsRow, TOKEN_COLUMNS, TokenRow, time_to_text};
use crate::store::{
    AuditEntry, AuditRecord, AuthStats, NewToken, StoreError, TokenHash, TokenRecord, TokenStore,
};

async fn insert_audit(conn: &mut SqliteConnection, entry: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO mcp_auth_audit_log (timestamp, user_id, event_type, token_prefix, error_message)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(time_to_text(entry.at))
    .bind(entry.user_id.as_deref())
    .bind(entry.event.as_str())
    .bind(entry.token_prefix.as_deref())
    .bind(entry.message.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

async fn select_tokens(
    store: &SqliteStore,
    filter: &str,
    binds: &[Option<&str>],
) -> Result<Vec<TokenRecord>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM mcp_auth_tokens WHERE {filter} ORDER BY id");
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(*bind);
    }
    let rows: Vec<TokenRow> = query.fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[async_trait]
impl TokenStore for SqliteStore {
    #[instrument(skip_all)]
    async fn insert_token(
        &self,
        token: &NewToken,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError> {
        let (mut tx, interrupt) = self.write_tx().await?;
        let sql = format!(
            "INSERT INTO mcp_auth_tokens (token_hash, token_prefix, user_id, name, email, created_at, expires_at, is_enabled, created_by, permissions, public_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING {TOKEN_COLUMNS}"
        );
        let TokenRow(record) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token.hash.as_str())
            .bind(&token.display_id)
            .bind(&token.user_id)
            .bind(token.name.as_deref())
            .bind(token.email.as_deref())
            .bind(time_to_text(token.created_at))
            .bind(token.expires_at.map(time_to_text))
            .bind(token.created_by.as_deref())
            .bind(token.permissions.to_json().to_string())
            .bind(&token.public_id)
            .fetch_one(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        interrupt.done();
        Ok(record)
    }

    #[instrument(skip_all)]
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        Ok(
            select_tokens(self, "token_hash = ?", &[Some(hash.as_str())])
                .await?
                .pop(),
        )
    }

    #[instrument(skip_all)]
    async fn token_by_id(&self, id: i64) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM mcp_auth_tokens WHERE id = ?");
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.0))
    }

    #[instrument(skip_all)]
    async fn token_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<(TokenRecord, TokenHash)>, StoreError> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS}, token_hash FROM mcp_auth_tokens WHERE public_id = ?");
        let row: Option<sqlx::sqlite::SqliteRow> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(public_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let TokenRow(record) = <TokenRow as sqlx::FromRow<_>>::from_row(&row)?;
        let hash: String = sqlx::Row::try_get(&row, "token_hash")?;
        Ok(Some((record, TokenHash::from_stored(hash))))
    }

    #[instrument(skip_all)]
    async fn tokens_by_display_id(&self, display_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
        select_tokens(self, "token_prefix = ?", &[Some(display_id)]).await
    }

    #[instrument(skip_all)]
    async fn list_tokens(&self, user_id: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        select_tokens(self, "(?1 IS NULL OR user_id = ?1)", &[user_id]).await
    }

    #[instrument(skip_all)]
    async fn set_token_enabled(
        &self,
        id: i64,
        enabled: bool,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let (mut tx, interrupt) = self.write_tx().await?;
        let changed = sqlx::query("UPDATE mcp_auth_tokens SET is_enabled = ? WHERE id = ?")
            .bind(enabled)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        interrupt.done();
        Ok(true)
    }

    #[instrument(skip_all)]
    async fn delete_token(&self, id: i64, audit: &AuditEntry) -> Result<bool, StoreError> {
        let (mut tx, interrupt) = self.write_tx().await?;
        let deleted = sqlx::query("DELETE FROM mcp_auth_tokens WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        interrupt.done();
        Ok(true)
    }

    #[instrument(skip_all)]
    async fn touch_token(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE mcp_auth_tokens SET last_used_at = ? WHERE id = ?")
            .bind(time_to_text(at))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        insert_audit(&mut conn, entry).await
    }

    #[instrument(skip_all)]
    async fn audit_log(
        &self,
        since: DateTime<Utc>,
        user_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, timestamp, user_id, event_type, token_prefix, error_message
             FROM mcp_auth_audit_log
             WHERE timestamp >= ? AND (? IS NULL OR user_id = ?)
             ORDER BY timestamp DESC, id DESC
             LIMIT ?",
        )
        .bind(time_to_text(since))
        .bind(user_id)
        .bind(user_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    #[instrument(skip_all)]
    async fn auth_stats(
        &self,
        user_id: &str,
        since: DateTime<Utc>,
    ) -> Result<AuthStats, StoreError> {
        let StatsRow(stats) = sqlx::query_as(
            "SELECT
                 (SELECT count(*) FROM mcp_auth_audit_log
                   WHERE user_id = ?1 AND timestamp >= ?2 AND event_type = 'success') AS successes,
                 (SELECT count(*) FROM mcp_auth_audit_log
                   WHERE user_id = ?1 AND timestamp >= ?2 AND event_type = 'auth_failed') AS failures,
                 (SELECT max(timestamp) FROM mcp_auth_audit_log
                   WHERE user_id = ?1 AND event_type = 'success') AS last_success",
        )
        .bind(user_id)
        .bind(time_to_text(since))
        .fetch_one(self.pool())
        .await?;
        Ok(stats)
    }
}
