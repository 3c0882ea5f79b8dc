//! What the `token` subcommands print: the one-time output of `token create` (the token, the
//! `export` lines and client configurations), and the tables and JSON of `list`, `audit` and
//! `stats`, and what the configuration snippets say about the database ([`database_hint`]: never
//! a URL that holds a password). Nothing here ever receives a token except [`created`].

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::auth::Token;
use crate::cli::table;
use crate::clients::{Client, DEFAULT_SERVER_NAME, Launch, claude_add_command, shell_quote};
use crate::settings::{DatabaseTarget, SQLITE_FILE};
use crate::store::{AuditRecord, AuthStats, TokenRecord};

/// Where the client should find the database, for the configuration snippets. A URL that
/// carries a password is never printed: the snippet gets a placeholder instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseHint {
    /// The default embedded database: nothing to set.
    Default,
    /// A URL safe to print.
    Url(String),
    /// A URL with a password in it.
    Withheld,
}

/// What the configuration snippets say about the database.
pub fn database_hint(target: &DatabaseTarget) -> DatabaseHint {
    match target {
        DatabaseTarget::Postgres(url) if url.has_password() => DatabaseHint::Withheld,
        DatabaseTarget::Postgres(url) => DatabaseHint::Url(url.without_password().to_owned()),
        DatabaseTarget::Sqlite(path) => {
            let default = crate::settings::default_data_dir().map(|d| d.join(SQLITE_FILE));
            if default.as_deref() == Some(path.as_path()) {
                DatabaseHint::Default
            } else {
                DatabaseHint::Url(format!("sqlite://{}", path.display()))
            }
        }
    }
}

pub const WITHHELD_URL: &str = "postgresql://USER:PASSWORD@HOST:5432/DATABASE";

/// The output of `token create`: everything needed to use the token, shown this once.
pub fn created(
    token: &Token,
    record: &TokenRecord,
    binary: &Path,
    database: &DatabaseHint,
) -> String {
    let user = &record.user_id;
    let url = match database {
        DatabaseHint::Default => None,
        DatabaseHint::Url(url) => Some(url.as_str()),
        DatabaseHint::Withheld => Some(WITHHELD_URL),
    };
    // Shown once, so the snippets carry the token itself; `client-config` references it instead.
    let mut launch = Launch::new(binary)
        .var("MEM0_TOKEN", token.expose())
        .var("MEM0_USER_ID", user.as_str());
    if let Some(url) = url {
        launch.set("MEM0_DATABASE_URL", url);
    }
    let desktop = Client::ClaudeDesktop.snippet(DEFAULT_SERVER_NAME, &launch);
    let vscode = Client::VsCode.snippet(DEFAULT_SERVER_NAME, &launch);
    let claude = claude_add_command(DEFAULT_SERVER_NAME, &launch);
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let mut text = format!(
        "Token created for user {user}\n\
         \n\
         Token:       {token}\n\
         Id:          {id}\n\
         Permissions: {perms}\n\
         Expires:     {expires}\n\
         \n\
         Add these to your shell profile (~/.zshrc or ~/.bashrc):\n\
         \n\
         export MEM0_TOKEN={token_q}\n\
         export MEM0_USER_ID={user_q}\n\
         \n\
         Claude Desktop (claude_desktop_config.json):\n\
         \n\
         {desktop}\n\
         \n\
         VS Code (.vscode/mcp.json):\n\
         \n\
         {vscode}\n\
         \n\
         Claude Code:\n\
         \n\
         {claude}\n",
        token = token.expose(),
        id = record.token_prefix,
        perms = record.permissions.names().join(","),
        expires = record.expires_at.map(day).unwrap_or_else(|| "never".into()),
        token_q = shell_quote(token.expose()),
        user_q = shell_quote(user),
        desktop = pretty(&desktop),
        vscode = pretty(&vscode),
    );
    if *database == DatabaseHint::Withheld {
        text.push_str(&format!(
            "\nReplace {WITHHELD_URL} with your database URL (it holds a password, so it is not printed here).\n"
        ));
    }
    text
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn token_list(records: &[TokenRecord], now: DateTime<Utc>) -> String {
    if records.is_empty() {
        return "No tokens. Create one with `mem0-mcp token create --user-id USER`.\n".into();
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.token_prefix.clone(),
                r.user_id.clone(),
                r.name.clone().unwrap_or_else(|| "-".into()),
                r.status(now).as_str().into(),
                r.expires_at.map(day).unwrap_or_else(|| "never".into()),
                r.last_used_at.map(minute).unwrap_or_else(|| "never".into()),
                r.permissions.names().join(","),
            ]
        })
        .collect();
    table::render(
        &[
            "ID",
            "USER",
            "NAME",
            "STATUS",
            "EXPIRES",
            "LAST USED",
            "PERMISSIONS",
        ],
        &rows,
    )
}

pub fn token_list_json(records: &[TokenRecord], now: DateTime<Utc>) -> Value {
    Value::Array(
        records
            .iter()
            .map(|r| {
                json!({
                    "id": r.token_prefix,
                    "user_id": r.user_id,
                    "name": r.name,
                    "email": r.email,
                    "status": r.status(now).as_str(),
                    "expires_at": r.expires_at.map(rfc3339),
                    "last_used_at": r.last_used_at.map(rfc3339),
                    "created_at": rfc3339(r.created_at),
                    "created_by": r.created_by,
                    "permissions": r.permissions.names(),
                })
            })
            .collect(),
    )
}

pub fn audit_log(records: &[AuditRecord], days: u32) -> String {
    if records.is_empty() {
        return format!("No audit events in the last {days} days.\n");
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let e = &r.entry;
            vec![
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.user_id.clone().unwrap_or_else(|| "-".into()),
                e.event.as_str().into(),
                e.token_prefix.clone().unwrap_or_else(|| "-".into()),
                e.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::render(&["TIME (UTC)", "USER", "EVENT", "TOKEN", "MESSAGE"], &rows)
}

pub fn audit_log_json(records: &[AuditRecord]) -> Value {
    Value::Array(
        records
            .iter()
            .map(|r| {
                let e = &r.entry;
                json!({
                    "id": r.id,
                    "timestamp": rfc3339(e.at),
                    "user_id": e.user_id,
                    "event_type": e.event.as_str(),
                    "token_prefix": e.token_prefix,
                    "error_message": e.message,
                })
            })
            .collect(),
    )
}

/// Figures of `token stats`.
#[derive(Debug, Clone)]
pub struct UserStats {
    pub user_id: String,
    pub total_tokens: usize,
    pub active_tokens: usize,
    pub auth: AuthStats,
    pub days: u32,
}

pub fn stats(s: &UserStats) -> String {
    format!(
        "User:                {}\n\
         Tokens:              {} ({} active)\n\
         Last authentication: {}\n\
         Last {} days:        {} successful, {} failed authentications\n",
        s.user_id,
        s.total_tokens,
        s.active_tokens,
        s.auth
            .last_success
            .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "never".into()),
        s.days,
        s.auth.successes,
        s.auth.failures,
    )
}

pub fn stats_json(s: &UserStats) -> Value {
    json!({
        "user_id": s.user_id,
        "total_tokens": s.total_tokens,
        "active_tokens": s.active_tokens,
        "last_authentication": s.auth.last_success.map(rfc3339),
        "days": s.days,
        "successful_authentications": s.auth.successes,
        "failed_authentications": s.auth.failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Permissions;

    fn record(token: &Token) -> TokenRecord {
        TokenRecord {
            id: 1,
            public_id: "0".repeat(32),
            token_prefix: token.display_id(),
            user_id: "o'brien@example.com".into(),
            name: Some("O'Brien".into()),
            email: None,
            created_at: Utc::now(),
            expires_at: None,
            is_enabled: true,
            last_used_at: None,
            created_by: None,
            permissions: Permissions::READ_WRITE,
        }
    }

    #[test]
    fn create_output_is_ready_to_paste() {
        let token = Token::generate().unwrap();
        let text = created(
            &token,
            &record(&token),
            Path::new("/opt/mem0 mcp/mem0-mcp"),
            &DatabaseHint::Url("postgresql:///mem0?host=/var/run/postgresql".into()),
        );
        assert!(text.contains(&format!("export MEM0_TOKEN='{}'", token.expose())));
        assert!(text.contains("export MEM0_USER_ID='o'\\''brien@example.com'"));
        assert!(text.contains("'/opt/mem0 mcp/mem0-mcp'"));
        assert!(text.contains("\"${workspaceFolder}\""));
        assert!(text.contains("\"type\": \"stdio\""));
        assert!(text.contains("\"mcpServers\""));
        assert!(text.contains("MEM0_DATABASE_URL='postgresql:///mem0?host=/var/run/postgresql'"));
        // Every JSON block parses.
        let blocks: Vec<&str> = text.split("\n\n").filter(|b| b.starts_with('{')).collect();
        assert_eq!(blocks.len(), 2, "{text}");
        for block in blocks {
            serde_json::from_str::<Value>(block).unwrap();
        }
    }

    #[test]
    fn a_url_with_a_password_is_withheld() {
        let token = Token::generate().unwrap();
        let text = created(
            &token,
            &record(&token),
            Path::new("/bin/mem0-mcp"),
            &DatabaseHint::Withheld,
        );
        assert!(text.contains(WITHHELD_URL));
        assert!(text.contains("not printed"));
    }

    #[test]
    fn list_never_shows_more_than_the_display_id() {
        let token = Token::generate().unwrap();
        let records = vec![record(&token)];
        let now = Utc::now();
        let table = token_list(&records, now);
        let json = token_list_json(&records, now).to_string();
        for text in [table, json] {
            assert!(text.contains(&token.display_id()));
            assert!(!text.contains(token.expose()));
        }
    }
}
