//! What export and import exchange with a store: memories with where they live and their
//! whole history. Export reads them a page at a time in id order (constant memory however many
//! there are); import writes a batch in one transaction, each record added or found unchanged.

use uuid::Uuid;

use crate::memory::{HistoryEvent, Memory};

/// Which memories an export reads. Expired memories are never exported.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Only this owner's rows (`scope_user`: the user, or `""` for the shared pool); `None`:
    /// every owner.
    pub owner: Option<String>,
    /// Only this project; `None`: every project.
    pub project: Option<String>,
}

/// A memory as it moves between databases: its owner, its project and its history.
#[derive(Debug, Clone, PartialEq)]
pub struct PortableMemory {
    pub memory: Memory,
    /// The owner of its scope (`scope_user`): the user, or `""` for the shared pool.
    pub owner: String,
    pub project_id: String,
    /// Oldest first.
    pub history: Vec<HistoryEvent>,
}

/// What happened to one imported memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Stored, with its history.
    Added,
    /// Already there: a memory with this id, or with this content in the scope.
    Unchanged,
    /// Its scope holds `count` memories, at or over the limit: not stored.
    ScopeFull { count: u64 },
}

/// Keyset position of an export: the last id of the previous page.
pub type ExportCursor = Option<Uuid>;

impl PortableMemory {
    /// The scope its rows are filed under.
    pub fn scope(&self) -> crate::memory::Scope {
        crate::memory::Scope {
            user_id: self.owner.clone(),
            project_id: self.project_id.clone(),
            mode: if self.owner.is_empty() {
                crate::project::ProjectMode::Global
            } else {
                crate::project::ProjectMode::Manual
            },
        }
    }

    /// Its history, or, when it has none, the ADD event its creation would have written.
    pub fn history_or_add(&self) -> Vec<HistoryEvent> {
        if !self.history.is_empty() {
            return self.history.clone();
        }
        vec![HistoryEvent {
            event: crate::memory::HistoryKind::Add,
            content: self.memory.content.clone(),
            actor: self.memory.user_id.clone(),
            actor_token: None,
            at: self.memory.created_at,
        }]
    }
}

/// When an import's transaction commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportCommit {
    /// Never: count what would happen, change nothing.
    DryRun,
    /// Only if every record was added or unchanged (none hit a full scope).
    AllOrNothing,
    /// Always: records whose scope is full are left out.
    SkipFull,
}

impl ImportCommit {
    /// Whether to commit after these outcomes.
    pub fn commits(self, outcomes: &[ImportOutcome]) -> bool {
        match self {
            ImportCommit::DryRun => false,
            ImportCommit::SkipFull => true,
            ImportCommit::AllOrNothing => !outcomes
                .iter()
                .any(|o| matches!(o, ImportOutcome::ScopeFull { .. })),
        }
    }
}
