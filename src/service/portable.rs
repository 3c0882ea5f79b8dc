//! Export and import: memories as JSON Lines that move between databases and machines.
//!
//! Our format (`mem0-mcp`): a header line `{"format": "mem0-mcp-export", "version": 1, ...}`,
//! then one memory per line with its owner, project and history. Export streams it page by
//! page (constant memory); import reads it (or a mem0 `get_all` JSON dump), checks every record
//! against the same limits as the tools, and hands the store one batch that it writes in one
//! transaction. A record that cannot be imported names its line.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MemoryError, store_failure};
use crate::access::Principal;
use crate::memory::{HistoryEvent, HistoryKind, Memory, Metadata, validate};
use crate::store::{ExportFilter, ImportCommit, ImportOutcome, MemoryStore, PortableMemory};

/// The `format` of our header line.
pub const FORMAT: &str = "mem0-mcp-export";
/// The version of our format this binary writes and reads.
pub const VERSION: u64 = 1;
/// Memories read per page while exporting.
const EXPORT_PAGE: u32 = 500;

/// The first line of an export.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u64,
    #[serde(default)]
    pub exported_at: Option<DateTime<Utc>>,
    /// Which memories were selected: `user_id` (null: every user), `project_id` (null: every
    /// project).
    #[serde(default)]
    pub selection: Option<serde_json::Value>,
}

/// One memory line of our format.
#[derive(Debug, Serialize, Deserialize)]
pub struct MemoryLine {
    pub id: Uuid,
    /// The author.
    pub user_id: String,
    pub project_id: String,
    /// True for the shared (global) pool.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    pub content: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub history: Vec<HistoryLine>,
}

/// One history event of a memory line.
#[derive(Debug, Serialize, Deserialize)]
pub struct HistoryLine {
    pub event: HistoryKind,
    pub content: String,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_token: Option<String>,
    pub at: DateTime<Utc>,
}

impl MemoryLine {
    fn from_portable(p: &PortableMemory) -> Self {
        let m = &p.memory;
        MemoryLine {
            id: m.id,
            user_id: m.user_id.clone(),
            project_id: p.project_id.clone(),
            shared: p.owner.is_empty(),
            content: m.content.clone(),
            tags: m.tags.clone(),
            metadata: serde_json::Value::Object(m.metadata.clone()),
            created_at: m.created_at,
            updated_at: m.updated_at,
            expires_at: m.expires_at,
            history: p
                .history
                .iter()
                .map(|e| HistoryLine {
                    event: e.event,
                    content: e.content.clone(),
                    actor: e.actor.clone(),
                    actor_token: e.actor_token.clone(),
                    at: e.at,
                })
                .collect(),
        }
    }
}

/// Writes the header and every memory `filter` selects to `out`, a page at a time; returns how
/// many memories were written.
pub async fn export(
    store: &dyn MemoryStore,
    filter: &ExportFilter,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: Some(crate::memory::now()),
        selection: Some(serde_json::json!({
            "user_id": filter.owner,
            "project_id": filter.project,
        })),
    };
    write_line(out, &header)?;
    let mut after = None;
    let mut written = 0;
    loop {
        let page = store
            .export_page(filter, after, EXPORT_PAGE)
            .await
            .map_err(|e| ExportError::Memory(store_failure(e, "read memories to export")))?;
        for memory in &page {
            write_line(out, &MemoryLine::from_portable(memory))?;
        }
        written += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE as usize => after = Some(last.memory.id),
            _ => break,
        }
    }
    out.flush().map_err(ExportError::Write)?;
    Ok(written)
}

fn write_line(out: &mut dyn Write, value: &impl Serialize) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| ExportError::Write(e.into()))?;
    out.write_all(b"\n").map_err(ExportError::Write)
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Memory(MemoryError),
    #[error("writing the export failed: {0}")]
    Write(std::io::Error),
}

/// The formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Our own JSON Lines, as `export` writes them.
    Mem0Mcp,
    /// A mem0 `get_all` JSON dump (a list of memories, or an object with `results`).
    Mem0,
    /// The reference memory server's JSON Lines (`@modelcontextprotocol/server-memory`):
    /// entities with observations, and relations.
    ServerMemory,
}

/// Where imported memories go and who imports them.
#[derive(Debug, Clone)]
pub struct ImportTarget {
    /// Who imports: memories of other users need `admin`.
    pub principal: Principal,
    /// The project of memories whose format has none (mem0), and of every memory when
    /// `force_project` is set.
    pub project_id: String,
    /// `--project P`: every imported memory goes to this project.
    pub force_project: bool,
}

/// A record that cannot be imported, by its line (or item) number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// Records read from a file: the importable ones with their line numbers, and the rejected.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<(u64, PortableMemory)>,
    pub rejected: Vec<Rejected>,
}

/// Reads `input` in `format`. A file that is not that format at all is an `Err`; single bad
/// records are [`Parsed::rejected`].
pub fn parse(
    format: ImportFormat,
    input: &mut dyn BufRead,
    target: &ImportTarget,
) -> Result<Parsed, String> {
    match format {
        ImportFormat::Mem0Mcp => parse_own(input, target),
        ImportFormat::Mem0 => parse_mem0(input, target),
        ImportFormat::ServerMemory => parse_server_memory(input, target),
    }
}

fn parse_own(input: &mut dyn BufRead, target: &ImportTarget) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let now = crate::memory::now();
    let mut header_seen = false;
    for (index, line) in input.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line.map_err(|e| format!("line {number} could not be read: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        if !header_seen {
            let header: Header = serde_json::from_str(&line).map_err(|_| {
                format!("line {number} is not a mem0-mcp export header ({{\"format\": \"{FORMAT}\", \"version\": {VERSION}}}): is this file from `mem0-mcp export`? Use --from for other formats")
            })?;
            if header.format != FORMAT || header.version != VERSION {
                return Err(format!(
                    "line {number}: format '{}' version {} is not one this binary reads ({FORMAT} version {VERSION}): import it with the mem0-mcp version that wrote it",
                    header.format, header.version
                ));
            }
            header_seen = true;
            continue;
        }
        let record = serde_json::from_str::<MemoryLine>(&line)
            .map_err(|e| format!("not a memory line: {e}"))
            .and_then(|m| to_portable(m, target, now));
        match record {
            Ok(Some(record)) => parsed.records.push((number, record)),
            Ok(None) => {}
            Err(reason) => parsed.rejected.push(Rejected {
                line: number,
                reason,
            }),
        }
    }
    if !header_seen {
        return Err("the file is empty: expected a mem0-mcp export header line".into());
    }
    Ok(parsed)
}

/// Checks one line of our format against the tools' limits; `None` for a memory that has
/// already expired (it would behave as deleted).
fn to_portable(
    line: MemoryLine,
    target: &ImportTarget,
    now: DateTime<Utc>,
) -> Result<Option<PortableMemory>, String> {
    if line.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    if line.user_id.trim().is_empty() {
        return Err("user_id is empty".into());
    }
    let owner = if line.shared {
        String::new()
    } else {
        line.user_id.clone()
    };
    if !owner.is_empty() && owner != target.principal.user_id && !target.principal.permissions.admin
    {
        return Err(format!(
            "the memory belongs to user '{}': importing other users' memories needs the admin permission (or import it into your own scope with --from mem0)",
            line.user_id
        ));
    }
    let project_id = if target.force_project {
        target.project_id.clone()
    } else {
        line.project_id.clone()
    };
    let memory = checked_memory(
        line.id,
        &line.user_id,
        &line.content,
        &line.tags,
        &line.metadata,
        (line.created_at, line.updated_at, line.expires_at),
    )?;
    let history = line
        .history
        .into_iter()
        .map(|e| HistoryEvent {
            event: e.event,
            content: e.content,
            actor: e.actor,
            actor_token: e.actor_token,
            at: micros(e.at),
        })
        .collect();
    Ok(Some(PortableMemory {
        memory,
        owner,
        project_id,
        history,
    }))
}

/// A memory whose content, tags and metadata pass the tools' checks.
fn checked_memory(
    id: Uuid,
    author: &str,
    content: &str,
    tags: &[String],
    metadata: &serde_json::Value,
    (created_at, updated_at, expires_at): (DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>),
) -> Result<Memory, String> {
    let content = validate::validate_content(content)?;
    let tags = validate::validate_tags(tags)?;
    let metadata: Metadata = match metadata {
        serde_json::Value::Null => Metadata::new(),
        other => validate::validate_metadata(other)?,
    };
    Ok(Memory {
        id,
        user_id: author.to_owned(),
        content,
        tags,
        metadata,
        created_at: micros(created_at),
        updated_at: micros(updated_at),
        expires_at: expires_at.map(micros),
    })
}

/// A time at the precision both databases keep.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// A memory of a mem0 `get_all` dump.
#[derive(Debug, Deserialize)]
struct Mem0Memory {
    #[serde(default)]
    id: Option<String>,
    memory: String,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    categories: Option<Vec<String>>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

fn parse_mem0(input: &mut dyn BufRead, target: &ImportTarget) -> Result<Parsed, String> {
    let value: serde_json::Value = serde_json::from_reader(input).map_err(|e| {
        format!("not a mem0 JSON dump ({e}): expected the JSON that mem0's get_all returns")
    })?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => match map.remove("results").or_else(|| map.remove("memories")) {
            Some(serde_json::Value::Array(items)) => items,
            _ => return Err("not a mem0 JSON dump: expected a list of memories, or an object with a \"results\" list".into()),
        },
        _ => return Err("not a mem0 JSON dump: expected a list of memories, or an object with a \"results\" list".into()),
    };
    let now = crate::memory::now();
    let mut parsed = Parsed::default();
    for (index, item) in items.into_iter().enumerate() {
        let number = index as u64 + 1;
        let record = serde_json::from_value::<Mem0Memory>(item)
            .map_err(|e| format!("not a mem0 memory: {e}"))
            .and_then(|m| {
                let time = |t: &Option<String>| {
                    t.as_deref()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&Utc))
                };
                let created = time(&m.created_at).unwrap_or(now);
                let updated = time(&m.updated_at).unwrap_or(created).max(created);
                let id =
                    m.id.as_deref()
                        .and_then(|id| Uuid::parse_str(id).ok())
                        .unwrap_or_else(Uuid::now_v7);
                let memory = checked_memory(
                    id,
                    &target.principal.user_id,
                    &m.memory,
                    &m.categories.unwrap_or_default(),
                    &m.metadata.unwrap_or(serde_json::Value::Null),
                    (created, updated, None),
                )?;
                Ok(PortableMemory {
                    memory,
                    owner: target.principal.user_id.clone(),
                    project_id: target.project_id.clone(),
                    history: Vec::new(),
                })
            });
        match record {
            Ok(record) => parsed.records.push((number, record)),
            Err(reason) => parsed.rejected.push(Rejected {
                line: number,
                reason,
            }),
        }
    }
    Ok(parsed)
}

/// A line of the reference memory server's file.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum GraphLine {
    Entity {
        name: String,
        #[serde(rename = "entityType")]
        entity_type: String,
        #[serde(default)]
        observations: Vec<String>,
    },
    Relation {
        from: String,
        to: String,
        #[serde(rename = "relationType")]
        relation_type: String,
    },
}

/// Each observation of an entity becomes a memory `NAME: OBSERVATION` tagged with the entity
/// type (an entity without observations, `NAME (TYPE)`); each relation, `FROM RELATION TO`
/// tagged `relation`. The names stay in the metadata.
fn parse_server_memory(input: &mut dyn BufRead, target: &ImportTarget) -> Result<Parsed, String> {
    let now = crate::memory::now();
    let mut parsed = Parsed::default();
    for (index, line) in input.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line.map_err(|e| format!("line {number} could not be read: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let facts: Result<Vec<(String, Vec<String>, serde_json::Value)>, String> =
            match serde_json::from_str::<GraphLine>(&line) {
                Err(e) => Err(format!(
                    "not an entity or relation of the reference memory server: {e}"
                )),
                Ok(GraphLine::Entity {
                    name,
                    entity_type,
                    observations,
                }) => {
                    let metadata = serde_json::json!({
                        "source": "server-memory", "entity": name, "entity_type": entity_type,
                    });
                    let tags = vec![entity_type.clone()];
                    if observations.is_empty() {
                        Ok(vec![(format!("{name} ({entity_type})"), tags, metadata)])
                    } else {
                        Ok(observations
                            .iter()
                            .map(|o| (format!("{name}: {o}"), tags.clone(), metadata.clone()))
                            .collect())
                    }
                }
                Ok(GraphLine::Relation {
                    from,
                    to,
                    relation_type,
                }) => Ok(vec![(
                    format!("{from} {relation_type} {to}"),
                    vec!["relation".to_string()],
                    serde_json::json!({
                        "source": "server-memory", "from": from, "to": to, "relation_type": relation_type,
                    }),
                )]),
            };
        let records = facts.and_then(|facts| {
            facts
                .into_iter()
                .map(|(content, tags, metadata)| {
                    let memory = checked_memory(
                        Uuid::now_v7(),
                        &target.principal.user_id,
                        &content,
                        &tags,
                        &metadata,
                        (now, now, None),
                    )?;
                    Ok(PortableMemory {
                        memory,
                        owner: target.principal.user_id.clone(),
                        project_id: target.project_id.clone(),
                        history: Vec::new(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        });
        match records {
            Ok(records) => parsed
                .records
                .extend(records.into_iter().map(|r| (number, r))),
            Err(reason) => parsed.rejected.push(Rejected {
                line: number,
                reason,
            }),
        }
    }
    Ok(parsed)
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub added: u64,
    pub unchanged: u64,
    pub skipped: u64,
    /// What was skipped and why, by line.
    pub skipped_lines: Vec<SkippedLine>,
    pub dry_run: bool,
}

/// One skipped record.
#[derive(Debug, Serialize)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: String,
}

/// Imports `parsed` in one transaction. Without `skip_invalid`, a rejected record or one whose
/// scope is full fails the whole import (nothing is imported) naming its line; with it, those
/// are skipped and listed. `progress(done, total)` is called now and then.
pub async fn import(
    store: &dyn MemoryStore,
    parsed: Parsed,
    scope_limit: u64,
    dry_run: bool,
    skip_invalid: bool,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    if !skip_invalid && let Some(first) = parsed.rejected.first() {
        return Err(ImportError::Line(first.clone()));
    }
    let (lines, records): (Vec<u64>, Vec<PortableMemory>) = parsed.records.into_iter().unzip();
    let commit = match (dry_run, skip_invalid) {
        (true, _) => ImportCommit::DryRun,
        (false, true) => ImportCommit::SkipFull,
        (false, false) => ImportCommit::AllOrNothing,
    };
    let total = records.len();
    let outcomes = store
        .import_memories(&records, scope_limit, commit, &|done| progress(done, total))
        .await
        .map_err(|e| ImportError::Memory(store_failure(e, "import memories")))?;
    let mut report = ImportReport {
        dry_run,
        ..Default::default()
    };
    for rejected in parsed.rejected {
        report.skipped_lines.push(SkippedLine {
            line: rejected.line,
            reason: rejected.reason,
        });
    }
    for ((line, record), outcome) in lines.iter().zip(&records).zip(outcomes) {
        match outcome {
            ImportOutcome::Added => report.added += 1,
            ImportOutcome::Unchanged => report.unchanged += 1,
            ImportOutcome::ScopeFull { count } => {
                let rejected = Rejected {
                    line: *line,
                    reason: format!(
                        "project '{}' already holds {count} memories, the limit is {scope_limit} (storage.max_memories_per_context)",
                        record.project_id
                    ),
                };
                if !skip_invalid && !dry_run {
                    return Err(ImportError::Line(rejected));
                }
                report.skipped_lines.push(SkippedLine {
                    line: rejected.line,
                    reason: rejected.reason,
                });
            }
        }
    }
    report.skipped_lines.sort_by_key(|s| s.line);
    report.skipped = report.skipped_lines.len() as u64;
    Ok(report)
}

/// Why an import changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "line {}: {}; nothing was imported (fix that line, or pass --skip-invalid to import the rest)",
        .0.line,
        .0.reason
    )]
    Line(Rejected),
    #[error("{0}")]
    Memory(MemoryError),
}
