//! The tool results as clients see them: structured JSON (with a schema) and a short text
//! rendering for clients that show text only. Every result names the scope it acted on.

use schemars::JsonSchema;
use serde::Serialize;

use crate::memory::{HistoryEvent, HistoryKind, Memory, Scope, ScoredMemory};
use crate::project::ProjectMode;

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScopeView {
    /// The user the server acts for.
    pub user_id: String,
    /// The project the memories belong to.
    pub project_id: String,
    /// auto, manual or global.
    pub mode: ProjectMode,
}

impl From<&Scope> for ScopeView {
    fn from(scope: &Scope) -> Self {
        ScopeView {
            user_id: scope.user_id.clone(),
            project_id: scope.project_id.clone(),
            mode: scope.mode,
        }
    }
}

impl ScopeView {
    fn label(&self) -> String {
        format!(
            "project {} ({} mode, user {})",
            self.project_id,
            self.mode.as_str(),
            self.user_id
        )
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryView {
    /// Stable id (UUID): pass it to get_memory, update_memory, delete_memory, memory_history.
    pub id: String,
    pub content: String,
    pub tags: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// RFC 3339 UTC: when the memory is forgotten; null when it does not expire.
    pub expires_at: Option<String>,
    /// The author (global mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Relevance, higher is better (search results only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

impl MemoryView {
    pub fn new(memory: &Memory, scope: &Scope) -> Self {
        MemoryView {
            id: memory.id.to_string(),
            content: memory.content.clone(),
            tags: memory.tags.clone(),
            metadata: memory.metadata.clone(),
            created_at: rfc3339(memory.created_at),
            updated_at: rfc3339(memory.updated_at),
            expires_at: memory.expires_at.map(rfc3339),
            user_id: scope.is_shared().then(|| memory.user_id.clone()),
            score: None,
        }
    }

    pub fn scored(found: &ScoredMemory, scope: &Scope) -> Self {
        MemoryView {
            score: Some((found.score * 1000.0).round() / 1000.0),
            ..MemoryView::new(&found.memory, scope)
        }
    }

    fn line(&self) -> String {
        let mut line = format!("[{}] {}", self.id, self.content);
        if !self.tags.is_empty() {
            line.push_str(&format!(" (tags: {})", self.tags.join(", ")));
        }
        if let Some(expires) = &self.expires_at {
            line.push_str(&format!(" (expires {expires})"));
        }
        if let Some(author) = &self.user_id {
            line.push_str(&format!(" (by {author})"));
        }
        if let Some(score) = self.score {
            line.push_str(&format!(" (score {score:.3})"));
        }
        line
    }
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Each result renders itself as the text block of the tool result.
pub trait Render {
    fn render(&self) -> String;
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AddMemoryResult {
    pub memory: MemoryView,
    /// True when the same content was already stored in this scope; `memory` is that one.
    pub deduplicated: bool,
    pub scope: ScopeView,
}

impl Render for AddMemoryResult {
    fn render(&self) -> String {
        let verb = if self.deduplicated {
            "Already remembered"
        } else {
            "Remembered"
        };
        format!("{verb} in {}:\n{}", self.scope.label(), self.memory.line())
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchMemoriesResult {
    /// Best match first.
    pub results: Vec<MemoryView>,
    pub scope: ScopeView,
}

impl Render for SearchMemoriesResult {
    fn render(&self) -> String {
        render_list(
            &format!(
                "{} found in {}",
                count(self.results.len()),
                self.scope.label()
            ),
            &self.results,
        )
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListMemoriesResult {
    /// Newest first.
    pub memories: Vec<MemoryView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// How many memories match in this scope, over all pages.
    pub total: u64,
    pub scope: ScopeView,
}

impl Render for ListMemoriesResult {
    fn render(&self) -> String {
        let mut text = render_list(
            &format!(
                "{} of {} in {}",
                count(self.memories.len()),
                self.total,
                self.scope.label()
            ),
            &self.memories,
        );
        if let Some(cursor) = &self.next_cursor {
            text.push_str(&format!(
                "\nMore: call list_memories with cursor \"{cursor}\""
            ));
        }
        text
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemoryResult {
    pub memory: MemoryView,
    pub scope: ScopeView,
}

/// The same shape serves get, update and delete; the text says which happened.
#[derive(Debug)]
pub struct MemoryOutcome {
    pub verb: &'static str,
    pub result: MemoryResult,
}

impl Render for MemoryOutcome {
    fn render(&self) -> String {
        format!(
            "{} in {}:\n{}",
            self.verb,
            self.result.scope.label(),
            self.result.memory.line()
        )
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeleteAllResult {
    /// How many memories were deleted (or, with dry_run, would be).
    pub deleted: u64,
    pub dry_run: bool,
    pub scope: ScopeView,
}

impl Render for DeleteAllResult {
    fn render(&self) -> String {
        if self.dry_run {
            format!(
                "Dry run: {} would be deleted from {}.",
                count(self.deleted as usize),
                self.scope.label()
            )
        } else {
            format!(
                "Deleted {} from {}.",
                count(self.deleted as usize),
                self.scope.label()
            )
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryEventView {
    /// ADD, UPDATE or DELETE.
    pub event: HistoryKind,
    /// The content after the event (for DELETE: what was deleted).
    pub content: String,
    /// The user who made the change.
    pub actor: String,
    /// Display id of the token used, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_token: Option<String>,
    /// RFC 3339 UTC.
    pub at: String,
}

impl From<&HistoryEvent> for HistoryEventView {
    fn from(event: &HistoryEvent) -> Self {
        HistoryEventView {
            event: event.event,
            content: event.content.clone(),
            actor: event.actor.clone(),
            actor_token: event.actor_token.clone(),
            at: rfc3339(event.at),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemoryHistoryResult {
    /// Oldest first.
    pub events: Vec<HistoryEventView>,
    pub scope: ScopeView,
}

impl Render for MemoryHistoryResult {
    fn render(&self) -> String {
        let mut text = format!("{} event(s) in {}:", self.events.len(), self.scope.label());
        for e in &self.events {
            let token = e
                .actor_token
                .as_deref()
                .map(|t| format!(" (token {t})"))
                .unwrap_or_default();
            text.push_str(&format!(
                "\n{} {} by {}{token}: {}",
                e.at,
                e.event.as_str(),
                e.actor,
                e.content
            ));
        }
        text
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemoryStatusResult {
    pub user_id: String,
    pub project_id: String,
    pub mode: ProjectMode,
    /// postgres or sqlite.
    pub backend: String,
    /// Memories in this scope.
    pub count: u64,
    /// Most memories this scope may hold.
    pub limit: u64,
    /// Memories of this scope that expire within the next 7 days.
    pub expiring_within_7_days: u64,
    /// What this session may do: read, write, admin.
    pub permissions: Vec<String>,
    /// Server version.
    pub version: String,
    /// Semantic search: the embedding provider and its state.
    pub semantic: SemanticView,
    pub scope: ScopeView,
}

/// The state of semantic search, as `memory_status` shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SemanticView {
    /// The configured provider (MEM0_EMBEDDING_PROVIDER): none, builtin or openai.
    pub provider: String,
    pub state: SemanticState,
    /// The model that makes the vectors, once loaded, e.g. builtin:3f2a9c01d4e5 or
    /// openai:all-MiniLM-L6-v2.
    pub model: Option<String>,
    /// Why the provider failed and how to fix it (only when failed).
    pub reason: Option<String>,
    /// Memories of this scope with a vector of `model` (null until it is loaded); the others
    /// are found by their words only until `mem0-mcp reindex`.
    pub embedded: Option<u64>,
}

/// Whether search uses meaning as well as words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SemanticState {
    /// Provider none: search is lexical only.
    Off,
    /// Configured, loading in the background (or at the first search).
    NotLoaded,
    /// Searches fuse words and meaning.
    Ready,
    /// Could not load, or its last call failed: search is lexical only (see reason).
    Failed,
}

impl From<crate::service::SemanticStatus> for SemanticView {
    fn from(status: crate::service::SemanticStatus) -> Self {
        use crate::service::ProviderState;
        let (state, reason) = match status.state {
            ProviderState::Off => (SemanticState::Off, None),
            ProviderState::NotLoaded => (SemanticState::NotLoaded, None),
            ProviderState::Ready { .. } => (SemanticState::Ready, None),
            ProviderState::Failed { reason } => (SemanticState::Failed, Some(reason)),
        };
        SemanticView {
            provider: status.provider.into(),
            state,
            model: status.model,
            reason,
            embedded: status.embedded,
        }
    }
}

impl SemanticView {
    fn line(&self) -> String {
        let model = self
            .model
            .as_deref()
            .map(|m| format!(" {m}"))
            .unwrap_or_default();
        let state = match self.state {
            SemanticState::Off => return "semantic search off".into(),
            SemanticState::NotLoaded => "not loaded yet".to_owned(),
            SemanticState::Ready => "ready".to_owned(),
            SemanticState::Failed => format!(
                "failed ({})",
                self.reason.as_deref().unwrap_or("no reason given")
            ),
        };
        let embedded = self
            .embedded
            .map(|n| format!(", {n} with a vector"))
            .unwrap_or_default();
        format!(
            "semantic search: {}{model} {state}{embedded}",
            self.provider
        )
    }
}

impl Render for MemoryStatusResult {
    fn render(&self) -> String {
        format!(
            "mem0-mcp {} on {}: {} of {} memories in {} ({} expiring within 7 days); permissions: {}; {}",
            self.version,
            self.backend,
            self.count,
            self.limit,
            self.scope.label(),
            self.expiring_within_7_days,
            self.permissions.join(", "),
            self.semantic.line()
        )
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 memory".into()
    } else {
        format!("{n} memories")
    }
}

fn render_list(head: &str, memories: &[MemoryView]) -> String {
    let mut text = format!("{head}:");
    for (i, m) in memories.iter().enumerate() {
        text.push_str(&format!("\n{}. {}", i + 1, m.line()));
    }
    text
}
