//! `mem0-mcp token …`: create, list, revoke, enable and delete tokens, read the audit log and a
//! user's statistics, and mint short-lived tokens. A token is printed once, by `create`; every
//! other output shows display ids (`mcp_` and 8 characters) only.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::migrate::database_failure;
use super::serve::{os_user_name, prepare_schema};
use super::token_output::{self, DatabaseHint, UserStats};
use super::{ExitCode, Failure};
use crate::auth::jwt::{self, Claims, JwtKey};
use crate::auth::token::DISPLAY_ID_CHARS;
use crate::auth::{self, AuthError, Credentials, Purpose, Token, permissions};
use crate::memory::Permissions;
use crate::settings::{DatabaseTarget, SQLITE_FILE, Settings};
use crate::store::{
    self, AuditEntry, AuditEvent, NewToken, Stores, TokenRecord, TokenStatus, TokenStore,
};

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it, once, with ready-to-paste client configuration
    Create(CreateArgs),
    /// List tokens (display ids only, never the tokens)
    List(ListArgs),
    /// Disable a token; servers using it stop within 60 seconds
    Revoke(ConfirmedRefArgs),
    /// Re-enable a revoked token
    Enable(RefArgs),
    /// Delete a token for good (its audit rows stay)
    Delete(ConfirmedRefArgs),
    /// Show the authentication audit log, newest first
    Audit(AuditArgs),
    /// Show a user's tokens and authentication counts
    Stats(StatsArgs),
    /// Mint a short-lived token (JWT) from the MEM0_TOKEN in effect, for a CI job or sub-agent
    Mint(MintArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The user the token acts for (e.g. an e-mail address); the client sets the same value as MEM0_USER_ID
    #[arg(long, value_name = "U")]
    pub user_id: String,
    /// The person's or the machine's name, shown by `token list`
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    #[arg(long, value_name = "E")]
    pub email: Option<String>,
    /// Days until the token expires; 0: never
    #[arg(long, value_name = "D", default_value_t = 365)]
    pub expires_days: u32,
    /// Comma-separated: read, write, admin (admin may change or delete others' memories in global mode)
    #[arg(long, value_name = "LIST", default_value = "read,write")]
    pub permissions: String,
    /// Who created it, for the record (default: your OS user name)
    #[arg(long, value_name = "C")]
    pub created_by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this user's tokens
    #[arg(long, value_name = "U")]
    pub user_id: Option<String>,
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RefArgs {
    /// The full token, or its display id (mcp_ and the next 8 characters, as `token list` shows)
    #[arg(value_name = "REF")]
    pub reference: String,
}

#[derive(Debug, Args)]
pub struct ConfirmedRefArgs {
    #[command(flatten)]
    pub target: RefArgs,
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// How many days back
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Only this user's events
    #[arg(long, value_name = "U")]
    pub user_id: Option<String>,
    /// At most this many events
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[arg(value_name = "USER_ID")]
    pub user_id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MintArgs {
    /// Lifetime: a whole number and a unit s, m, h or d (15m, 2h, 7d); at most 30d
    #[arg(long, value_name = "DURATION")]
    pub ttl: String,
    /// Only the read permission
    #[arg(long, conflicts_with = "permissions")]
    pub read_only: bool,
    /// Comma-separated permissions, a subset of the parent token's (default: the parent's without admin)
    #[arg(long, value_name = "LIST")]
    pub permissions: Option<String>,
    /// Limit the token to this project (the server then runs in manual mode on it)
    #[arg(long, value_name = "P")]
    pub project: Option<String>,
}

/// Stdout, where command results go (logs and notes go to stderr).
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn json_out(value: &serde_json::Value) {
    out(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    ));
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(ExitCode::Usage, message)
}

pub async fn run(args: &TokenArgs, settings: &Settings) -> Result<(), Failure> {
    // Check what can be checked before touching the database.
    if let TokenCommand::Create(create) = &args.command {
        validate_create(create)?;
    }
    let stores = store::open_all(&settings.database, settings.timeout)
        .await
        .map_err(database_failure)?;
    prepare_schema(stores.memories.as_ref()).await?;
    let tokens = stores.tokens.as_ref();
    match &args.command {
        TokenCommand::Create(create) => run_create(create, tokens, settings).await,
        TokenCommand::List(list) => run_list(list, tokens).await,
        TokenCommand::Revoke(r) => run_revoke(r, tokens).await,
        TokenCommand::Enable(r) => run_enable(r, tokens).await,
        TokenCommand::Delete(r) => run_delete(r, tokens).await,
        TokenCommand::Audit(a) => run_audit(a, tokens).await,
        TokenCommand::Stats(s) => run_stats(s, tokens).await,
        TokenCommand::Mint(m) => run_mint(m, &stores, settings).await,
    }
}

fn check_text(flag: &str, value: &str) -> Result<(), Failure> {
    if value.trim().is_empty() || value.chars().count() > 256 || value.chars().any(char::is_control)
    {
        return Err(usage(format!(
            "{flag} must be 1 to 256 printable characters"
        )));
    }
    Ok(())
}

fn validate_create(args: &CreateArgs) -> Result<(), Failure> {
    check_text("--user-id", &args.user_id)?;
    for (flag, value) in [
        ("--name", &args.name),
        ("--email", &args.email),
        ("--created-by", &args.created_by),
    ] {
        if let Some(value) = value {
            check_text(flag, value)?;
        }
    }
    if args.email.as_deref().is_some_and(|e| !e.contains('@')) {
        return Err(usage("--email must be an e-mail address (name@domain)"));
    }
    if args.expires_days > 36500 {
        return Err(usage(
            "--expires-days must be at most 36500 (use 0 for a token that never expires)",
        ));
    }
    permissions::parse_list(&args.permissions).map_err(|e| usage(format!("--permissions: {e}")))?;
    Ok(())
}

async fn run_create(
    args: &CreateArgs,
    tokens: &dyn TokenStore,
    settings: &Settings,
) -> Result<(), Failure> {
    let perms = permissions::parse_list(&args.permissions)
        .map_err(|e| usage(format!("--permissions: {e}")))?;
    let request = TokenRequest {
        user_id: args.user_id.clone(),
        name: args.name.clone(),
        email: args.email.clone(),
        expires_days: args.expires_days,
        permissions: perms,
        created_by: args.created_by.clone(),
    };
    let (token, record) = issue(tokens, &request).await?;
    let binary = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("mem0-mcp"));
    let hint = database_hint(&settings.database);
    out(&token_output::created(&token, &record, &binary, &hint));
    eprintln!(
        "This is the only time the token is shown: mem0-mcp keeps only its SHA-256. Store it now (a password manager, the client configuration); a lost token cannot be recovered, only replaced."
    );
    Ok(())
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// 0: never expires.
    pub expires_days: u32,
    pub permissions: Permissions,
    /// Default: the OS user name.
    pub created_by: Option<String>,
}

/// Creates a token and its `token_created` audit row; the token is returned once, here.
pub async fn issue(
    tokens: &dyn TokenStore,
    request: &TokenRequest,
) -> Result<(Token, TokenRecord), Failure> {
    let token = Token::generate().map_err(|e| {
        Failure::new(
            ExitCode::Other,
            format!("the operating system's random generator failed: {e}"),
        )
    })?;
    let now = crate::memory::now();
    let created_by = request.created_by.clone().unwrap_or_else(os_user_name);
    let new = NewToken {
        hash: token.hash(),
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
    let record = tokens
        .insert_token(&new, &audit)
        .await
        .map_err(database_failure)?;
    Ok((token, record))
}

/// What the configuration snippets say about the database.
fn database_hint(target: &DatabaseTarget) -> DatabaseHint {
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

async fn run_list(args: &ListArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let records = tokens
        .list_tokens(args.user_id.as_deref())
        .await
        .map_err(database_failure)?;
    let now = Utc::now();
    if args.json {
        json_out(&token_output::token_list_json(&records, now));
    } else {
        out(&token_output::token_list(&records, now));
    }
    Ok(())
}

/// How a reference is shown back: never more than a display id, so a full token given on the
/// command line is not echoed.
fn shown(reference: &str) -> String {
    if reference.chars().count() > DISPLAY_ID_CHARS {
        format!(
            "{}…",
            reference.chars().take(DISPLAY_ID_CHARS).collect::<String>()
        )
    } else {
        reference.to_owned()
    }
}

/// Finds the one token a REF names: the full token (by its hash) or a display id.
async fn resolve(reference: &str, tokens: &dyn TokenStore) -> Result<TokenRecord, Failure> {
    let reference = reference.trim();
    let not_found = || {
        Failure::new(
            ExitCode::Other,
            format!(
                "no token matches {}: nothing was changed (`mem0-mcp token list` shows the ids)",
                shown(reference)
            ),
        )
    };
    if let Ok(token) = Token::parse(reference) {
        return tokens
            .token_by_hash(&token.hash())
            .await
            .map_err(database_failure)?
            .ok_or_else(not_found);
    }
    if !Token::looks_like_one(reference) || reference.chars().count() < DISPLAY_ID_CHARS {
        return Err(usage(format!(
            "'{}' is not a token reference: give the full token or its display id (mcp_ and the next 8 characters, as `mem0-mcp token list` shows); nothing was changed",
            shown(reference)
        )));
    }
    // Only the first 12 characters are stored besides the hash, so they are all a partial
    // reference can be matched on.
    let display_id: String = reference.chars().take(DISPLAY_ID_CHARS).collect();
    let mut matches = tokens
        .tokens_by_display_id(&display_id)
        .await
        .map_err(database_failure)?;
    match matches.len() {
        0 => Err(not_found()),
        1 => Ok(matches.remove(0)),
        n => {
            let users: Vec<&str> = matches.iter().map(|m| m.user_id.as_str()).collect();
            Err(usage(format!(
                "{} matches {n} tokens (users: {}): use the full token to choose one; nothing was changed",
                shown(reference),
                users.join(", ")
            )))
        }
    }
}

fn describe(record: &TokenRecord) -> String {
    match &record.name {
        Some(name) => format!(
            "{} (user {}, name {name})",
            record.token_prefix, record.user_id
        ),
        None => format!("{} (user {})", record.token_prefix, record.user_id),
    }
}

/// Asks on a terminal; refuses to guess when there is none.
fn confirm(question: &str, yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(usage(
            "pass --yes to confirm when not on a terminal: nothing was changed",
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(ExitCode::Other, format!("cannot read the answer: {e}")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new(
            ExitCode::Other,
            "cancelled: nothing was changed",
        ))
    }
}

fn lifecycle_entry(event: AuditEvent, record: &TokenRecord) -> AuditEntry {
    AuditEntry::new(event)
        .user(record.user_id.clone())
        .token(Some(record.token_prefix.clone()))
        .message(format!("by {}", os_user_name()))
}

fn gone(record: &TokenRecord) -> Failure {
    Failure::new(
        ExitCode::Other,
        format!(
            "token {} was deleted meanwhile: nothing was changed",
            record.token_prefix
        ),
    )
}

async fn run_revoke(args: &ConfirmedRefArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let record = resolve(&args.target.reference, tokens).await?;
    if !record.is_enabled {
        out(&format!(
            "{} is already revoked; nothing was changed.\n",
            describe(&record)
        ));
        return Ok(());
    }
    confirm(&format!("Revoke {}?", describe(&record)), args.yes)?;
    let entry = lifecycle_entry(AuditEvent::TokenRevoked, &record);
    if !tokens
        .set_token_enabled(record.id, false, &entry)
        .await
        .map_err(database_failure)?
    {
        return Err(gone(&record));
    }
    out(&format!(
        "Revoked {}. Servers using it stop accepting calls within 60 seconds; `mem0-mcp token enable {}` undoes this.\n",
        describe(&record),
        record.token_prefix
    ));
    Ok(())
}

async fn run_enable(args: &RefArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let record = resolve(&args.reference, tokens).await?;
    if record.is_enabled {
        out(&format!(
            "{} is already enabled; nothing was changed.\n",
            describe(&record)
        ));
    } else {
        let entry = lifecycle_entry(AuditEvent::TokenEnabled, &record);
        if !tokens
            .set_token_enabled(record.id, true, &entry)
            .await
            .map_err(database_failure)?
        {
            return Err(gone(&record));
        }
        out(&format!("Enabled {}.\n", describe(&record)));
    }
    if let Some(at) = record.expires_at.filter(|at| *at <= Utc::now()) {
        eprintln!(
            "Note: {} expired on {}, so it still cannot be used; create a new one with `mem0-mcp token create --user-id {}`.",
            record.token_prefix,
            at.format("%Y-%m-%d"),
            record.user_id
        );
    }
    Ok(())
}

async fn run_delete(args: &ConfirmedRefArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let record = resolve(&args.target.reference, tokens).await?;
    confirm(&format!("Delete {} for good?", describe(&record)), args.yes)?;
    let entry = lifecycle_entry(AuditEvent::TokenDeleted, &record);
    if !tokens
        .delete_token(record.id, &entry)
        .await
        .map_err(database_failure)?
    {
        return Err(gone(&record));
    }
    out(&format!(
        "Deleted {}. Its audit log entries are kept.\n",
        describe(&record)
    ));
    Ok(())
}

fn days_ago(days: u32) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(i64::from(days))
}

async fn run_audit(args: &AuditArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let records = tokens
        .audit_log(days_ago(args.days), args.user_id.as_deref(), args.limit)
        .await
        .map_err(database_failure)?;
    if args.json {
        json_out(&token_output::audit_log_json(&records));
    } else {
        out(&token_output::audit_log(&records, args.days));
    }
    Ok(())
}

const STATS_DAYS: u32 = 30;

async fn run_stats(args: &StatsArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let records = tokens
        .list_tokens(Some(&args.user_id))
        .await
        .map_err(database_failure)?;
    let auth = tokens
        .auth_stats(&args.user_id, days_ago(STATS_DAYS))
        .await
        .map_err(database_failure)?;
    let now = Utc::now();
    let stats = UserStats {
        user_id: args.user_id.clone(),
        total_tokens: records.len(),
        active_tokens: records
            .iter()
            .filter(|r| r.status(now) == TokenStatus::Enabled)
            .count(),
        auth,
        days: STATS_DAYS,
    };
    if args.json {
        json_out(&token_output::stats_json(&stats));
    } else {
        out(&token_output::stats(&stats));
    }
    Ok(())
}

/// The permissions a minted token gets: `--read-only`, `--permissions`, or the parent's
/// without admin (handing out admin takes asking for it).
fn mint_permissions(args: &MintArgs, parent: Permissions) -> Result<Permissions, Failure> {
    let wanted = if args.read_only {
        Permissions {
            read: true,
            write: false,
            admin: false,
        }
    } else if let Some(list) = &args.permissions {
        permissions::parse_list(list).map_err(|e| usage(format!("--permissions: {e}")))?
    } else {
        Permissions {
            admin: false,
            ..parent
        }
    };
    if !permissions::is_subset(wanted, parent) {
        return Err(usage(format!(
            "a minted token can only have permissions its parent has ({}), not {}",
            parent.names().join(","),
            wanted.names().join(",")
        )));
    }
    Ok(wanted)
}

async fn run_mint(args: &MintArgs, stores: &Stores, settings: &Settings) -> Result<(), Failure> {
    let ttl = jwt::parse_ttl(&args.ttl).map_err(usage)?;
    if let Some(project) = &args.project {
        crate::project::validate_project_id(project)
            .map_err(|e| usage(format!("--project: {e}")))?;
    }
    let key = JwtKey::new(settings.jwt_secret.as_ref()).map_err(|e| usage(e.to_string()))?;
    if settings.token.is_none() {
        return Err(Failure::new(
            ExitCode::Auth,
            "token mint needs the parent token in MEM0_TOKEN (and MEM0_USER_ID): set them as for serve",
        ));
    }
    let credentials = Credentials {
        token: settings.token.as_ref(),
        user_id: settings.user_id.as_deref(),
        jwt_secret: settings.jwt_secret.as_ref(),
    };
    let parent =
        match auth::authenticate(stores.tokens.as_ref(), credentials, Purpose::Mint, false).await {
            Ok(done) => done.token,
            Err(AuthError::Store(e)) => return Err(database_failure(e)),
            Err(e) => return Err(Failure::new(ExitCode::Auth, e.to_string())),
        };
    let perms = mint_permissions(args, parent.permissions)?;
    let now = Utc::now();
    let claims = Claims {
        sub: parent.user_id.clone(),
        exp: now.timestamp() + ttl,
        iat: now.timestamp(),
        jti: uuid::Uuid::new_v4().to_string(),
        parent: parent.id,
        perms: perms.names().into_iter().map(String::from).collect(),
        project: args.project.clone(),
    };
    let minted =
        jwt::mint(&key, &claims).map_err(|e| Failure::new(ExitCode::Other, e.to_string()))?;
    let project = claims
        .project
        .as_deref()
        .map(|p| format!("project {p}"))
        .unwrap_or_else(|| "any project".into());
    let expires = claims.expires_at().format("%Y-%m-%d %H:%M:%S UTC");
    let entry = AuditEntry::new(AuditEvent::TokenMinted)
        .user(parent.user_id.clone())
        .token(Some(parent.token_prefix.clone()))
        .message(format!(
            "minted {} ({}; {project}; expires {expires})",
            claims.short_id(),
            perms.names().join(",")
        ));
    stores
        .tokens
        .append_audit(&entry)
        .await
        .map_err(database_failure)?;
    out(&format!("{minted}\n"));
    eprintln!(
        "Minted {} for {} from {}: {}, {project}, expires {expires}. Use it as MEM0_TOKEN with MEM0_USER_ID={}; the server needs the same MEM0_JWT_SECRET. It stops working when {} is revoked.",
        claims.short_id(),
        parent.user_id,
        parent.token_prefix,
        perms.names().join(","),
        parent.user_id,
        parent.token_prefix
    );
    Ok(())
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
        let args = |read_only, permissions: Option<&str>| MintArgs {
            ttl: "1h".into(),
            read_only,
            permissions: permissions.map(String::from),
            project: None,
        };
        let read = Permissions {
            read: true,
            write: false,
            admin: false,
        };
        assert_eq!(
            mint_permissions(&args(false, None), Permissions::ALL).unwrap(),
            Permissions::READ_WRITE
        );
        assert_eq!(
            mint_permissions(&args(true, None), Permissions::ALL).unwrap(),
            read
        );
        assert_eq!(
            mint_permissions(&args(false, Some("read,write,admin")), Permissions::ALL).unwrap(),
            Permissions::ALL
        );
        assert!(mint_permissions(&args(false, Some("read,write")), read).is_err());
    }
}
