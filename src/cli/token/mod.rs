//! `mem0-mcp token …`: create, list, revoke, enable and delete tokens, read the audit log and a
//! user's statistics, and mint short-lived tokens. A token is printed once, by `create`; every
//! other output shows display ids (`mcp_` and 8 characters) only. The rules live in
//! [`crate::auth::tokens`]; this module parses, calls and prints (`output.rs` renders).

mod output;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use self::output::UserStats;
use super::{ExitCode, Failure};
use crate::access::Permissions;
use crate::auth::Credentials;
use crate::auth::jwt::{self, JwtKey};
use crate::auth::tokens::{self as lifecycle, MintPermissions, MintRequest, TokenRequest};
use crate::settings::Settings;
use crate::store::{self, Stores, TokenRecord, TokenStatus, TokenStore};

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
    let stores = store::open_all(&settings.database, settings.timeout).await?;
    store::ensure_current(stores.memories.as_ref()).await?;
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
    if let Some(c) = crate::identifier::first_hidden(value) {
        return Err(usage(format!(
            "{flag} '{}' contains the invisible character {}, which would make token lists and the audit log show another name: remove it",
            crate::identifier::echo(value),
            crate::identifier::code_point(c)
        )));
    }
    if value.trim().is_empty() || value.chars().count() > 256 {
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
    Permissions::parse_list(&args.permissions).map_err(|e| usage(format!("--permissions: {e}")))?;
    Ok(())
}

async fn run_create(
    args: &CreateArgs,
    tokens: &dyn TokenStore,
    settings: &Settings,
) -> Result<(), Failure> {
    let perms = Permissions::parse_list(&args.permissions)
        .map_err(|e| usage(format!("--permissions: {e}")))?;
    let request = TokenRequest {
        user_id: args.user_id.clone(),
        name: args.name.clone(),
        email: args.email.clone(),
        expires_days: args.expires_days,
        permissions: perms,
        created_by: args.created_by.clone(),
    };
    let (token, record) = lifecycle::issue(tokens, &request).await?;
    let binary = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("mem0-mcp"));
    let hint = output::database_hint(&settings.database);
    out(&output::created(&token, &record, &binary, &hint));
    eprintln!(
        "This is the only time the token is shown: mem0-mcp keeps only its SHA-256. Store it now (a password manager, the client configuration); a lost token cannot be recovered, only replaced."
    );
    Ok(())
}

async fn run_list(args: &ListArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let records = tokens.list_tokens(args.user_id.as_deref()).await?;
    let now = Utc::now();
    if args.json {
        json_out(&output::token_list_json(&records, now));
    } else {
        out(&output::token_list(&records, now));
    }
    Ok(())
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

async fn run_revoke(args: &ConfirmedRefArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let record = lifecycle::resolve(tokens, &args.target.reference).await?;
    if !record.is_enabled {
        out(&format!(
            "{} is already revoked; nothing was changed.\n",
            describe(&record)
        ));
        return Ok(());
    }
    confirm(&format!("Revoke {}?", describe(&record)), args.yes)?;
    lifecycle::revoke(tokens, &record).await?;
    out(&format!(
        "Revoked {}. Servers using it stop accepting calls within 60 seconds; `mem0-mcp token enable {}` undoes this.\n",
        describe(&record),
        record.token_prefix
    ));
    Ok(())
}

async fn run_enable(args: &RefArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let record = lifecycle::resolve(tokens, &args.reference).await?;
    if record.is_enabled {
        out(&format!(
            "{} is already enabled; nothing was changed.\n",
            describe(&record)
        ));
    } else {
        lifecycle::enable(tokens, &record).await?;
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
    let record = lifecycle::resolve(tokens, &args.target.reference).await?;
    confirm(&format!("Delete {} for good?", describe(&record)), args.yes)?;
    lifecycle::delete(tokens, &record).await?;
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
        .await?;
    if args.json {
        json_out(&output::audit_log_json(&records));
    } else {
        out(&output::audit_log(&records, args.days));
    }
    Ok(())
}

const STATS_DAYS: u32 = 30;

async fn run_stats(args: &StatsArgs, tokens: &dyn TokenStore) -> Result<(), Failure> {
    let records = tokens.list_tokens(Some(&args.user_id)).await?;
    let auth = tokens
        .auth_stats(&args.user_id, days_ago(STATS_DAYS))
        .await?;
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
        json_out(&output::stats_json(&stats));
    } else {
        out(&output::stats(&stats));
    }
    Ok(())
}

/// The permissions `--read-only` or `--permissions` ask for.
fn mint_permissions(args: &MintArgs) -> Result<MintPermissions, Failure> {
    Ok(if args.read_only {
        MintPermissions::ReadOnly
    } else if let Some(list) = &args.permissions {
        MintPermissions::Exactly(
            Permissions::parse_list(list).map_err(|e| usage(format!("--permissions: {e}")))?,
        )
    } else {
        MintPermissions::ParentWithoutAdmin
    })
}

async fn run_mint(args: &MintArgs, stores: &Stores, settings: &Settings) -> Result<(), Failure> {
    let ttl_secs = jwt::parse_ttl(&args.ttl).map_err(usage)?;
    if let Some(project) = &args.project {
        crate::project::validate_project_id(project)
            .map_err(|e| usage(format!("--project: {e}")))?;
    }
    let key = JwtKey::new(settings.jwt_secret.as_ref()).map_err(|e| usage(e.to_string()))?;
    let tokens = stores.tokens.as_ref();
    let (parent, parent_hash) =
        lifecycle::mint_parent(tokens, Credentials::from_settings(settings)).await?;
    let request = MintRequest {
        ttl_secs,
        permissions: mint_permissions(args)?,
        project: args.project.clone(),
    };
    let minted = lifecycle::mint(tokens, &key, &parent, &parent_hash, &request).await?;
    out(&format!("{}\n", minted.jwt.expose()));
    eprintln!(
        "Minted {} for {} from {}: {}, {}, expires {}. Use it as MEM0_TOKEN with MEM0_USER_ID={}; the server needs the same MEM0_JWT_SECRET. It stops working when {} is revoked.",
        minted.claims.short_id(),
        parent.user_id,
        parent.token_prefix,
        minted.permissions.names().join(","),
        lifecycle::project_phrase(&minted.claims),
        lifecycle::expiry_phrase(&minted.claims),
        parent.user_id,
        parent.token_prefix
    );
    Ok(())
}
