//! The memory service: every rule that holds whatever the backend is, one layer above the
//! store (the records it works on are [`crate::memory`]'s). It validates input,
//! checks permissions, applies dedup and the per-scope limit (through the store's atomic
//! insert), writes a backup before bulk deletes, and turns store failures into messages a model
//! can act on, logging the database detail once.

use std::path::PathBuf;
use std::sync::Arc;

use uuid::Uuid;

mod backup;
mod fusion;
pub mod lexical;
pub mod portable;
pub mod reindex;
mod search;
pub mod semantic;

pub use semantic::{ProviderState, Semantic, SemanticStatus};

use crate::access::Principal;
use crate::memory::{Cursor, HistoryEvent, Memory, MemoryChanges, NewMemory, Scope, validate};
use crate::store::{InsertOutcome, ListFilter, MemoryStore, StoreError, UpdateOutcome};

#[derive(Debug, Clone)]
pub struct ServiceLimits {
    /// Most memories one scope may hold.
    pub max_memories_per_scope: u64,
    /// Where bulk deletes write their backup first; `None` turns backups off.
    pub backup_dir: Option<PathBuf>,
}

impl ServiceLimits {
    /// The limits the settings ask for: `storage.max_memories_per_context`, and backups under
    /// `DATA_DIR/backups` when `storage.backup_enabled`.
    pub fn from_settings(settings: &crate::settings::Settings) -> Self {
        ServiceLimits {
            max_memories_per_scope: settings.max_memories_per_context,
            backup_dir: settings
                .backup_enabled
                .then(|| settings.data_dir.join("backups")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "no memory with id {0} in this scope: it may have been deleted, or belong to another project; use search_memories or list_memories to find ids"
    )]
    NotFound(Uuid),
    #[error(
        "this scope (project '{project}') already holds {count} memories, the limit is {limit}: delete or update memories that are no longer true, or raise storage.max_memories_per_context"
    )]
    ScopeFull {
        project: String,
        count: u64,
        limit: u64,
    },
    #[error("memory {0} already has this content: update or delete that one instead")]
    ContentTaken(Uuid),
    #[error("{0}")]
    Forbidden(String),
    #[error("the memory database is unreachable right now; try again in a moment")]
    Unavailable,
    #[error(
        "the disk holding the memory database is full, so nothing was changed: free some space (or ask the administrator to), then try again"
    )]
    DiskFull,
    #[error("the memory server failed to {0}; the details are in its log")]
    Internal(&'static str),
}

#[derive(Debug)]
pub struct MemoryService {
    store: Arc<dyn MemoryStore>,
    limits: ServiceLimits,
    semantic: Arc<Semantic>,
    lexical: lexical::Lexical,
}

/// What a caller asks to change in a memory, unvalidated; `None` keeps the field.
#[derive(Debug, Default, Clone, Copy)]
pub struct Edit<'a> {
    pub content: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    pub metadata: Option<&'a serde_json::Value>,
    /// `Some(None)` clears the expiry.
    pub expires_at: Option<Option<&'a str>>,
}

/// A page of a listing.
#[derive(Debug)]
pub struct MemoryPage {
    pub memories: Vec<Memory>,
    pub next_cursor: Option<Cursor>,
    pub total: u64,
}

impl MemoryService {
    pub fn new(store: Arc<dyn MemoryStore>, limits: ServiceLimits) -> Self {
        MemoryService {
            store,
            limits,
            semantic: Arc::new(Semantic::off()),
            lexical: lexical::Lexical::default(),
        }
    }

    /// The same service with semantic search through `semantic`.
    pub fn with_semantic(mut self, semantic: Arc<Semantic>) -> Self {
        self.semantic = semantic;
        self
    }

    /// The semantic-search side: provider state, and loading it.
    pub fn semantic(&self) -> &Arc<Semantic> {
        &self.semantic
    }

    pub fn store(&self) -> &Arc<dyn MemoryStore> {
        &self.store
    }

    pub fn limits(&self) -> &ServiceLimits {
        &self.limits
    }

    pub async fn add(
        &self,
        principal: &Principal,
        scope: &Scope,
        content: &str,
        tags: Option<&[String]>,
        metadata: Option<&serde_json::Value>,
        expires_at: Option<&str>,
    ) -> Result<(Memory, bool), MemoryError> {
        require_write(principal)?;
        let at = crate::memory::now();
        let expires_at = expires_at
            .map(|text| validate::validate_expires_at(text, at))
            .transpose()
            .map_err(MemoryError::Invalid)?;
        let content = validate::validate_content(content).map_err(MemoryError::Invalid)?;
        let tags =
            validate::validate_tags(tags.unwrap_or_default()).map_err(MemoryError::Invalid)?;
        let metadata = match metadata {
            Some(value) => validate::validate_metadata(value).map_err(MemoryError::Invalid)?,
            None => Default::default(),
        };
        // Embedded first, so that the memory and its vector are stored in one transaction.
        let vector = if self.semantic.is_enabled() {
            self.semantic.vector_of(&content).await
        } else {
            None
        };
        let new = NewMemory {
            id: Uuid::now_v7(),
            content_hash: validate::content_hash(&content),
            content,
            tags,
            metadata,
            at,
            expires_at,
            vector,
        };
        let limit = self.limits.max_memories_per_scope;
        match self
            .store
            .insert_memory(scope, &new, principal, limit)
            .await
            .map_err(|e| store_failure(e, "store the memory"))?
        {
            InsertOutcome::Inserted(memory) => {
                self.lexical
                    .note(scope, lexical::Change::Added(lexical::document_of(&memory)));
                if let Some(vector) = &new.vector {
                    self.semantic.note_added(scope, memory.id, vector);
                }
                Ok((memory, false))
            }
            InsertOutcome::Duplicate(memory) => Ok((memory, true)),
            InsertOutcome::ScopeFull { count } => Err(MemoryError::ScopeFull {
                project: scope.project_id.clone(),
                count,
                limit,
            }),
        }
    }

    pub async fn list(
        &self,
        scope: &Scope,
        limit: Option<i64>,
        cursor: Option<&str>,
        tags: Option<&[String]>,
    ) -> Result<MemoryPage, MemoryError> {
        let limit = validate::validate_limit(limit, 50, 100).map_err(MemoryError::Invalid)?;
        let tags =
            validate::validate_tags(tags.unwrap_or_default()).map_err(MemoryError::Invalid)?;
        let after = match cursor.filter(|c| !c.trim().is_empty()) {
            None => None,
            Some(raw) => Some(Cursor::decode(raw).ok_or_else(|| {
                MemoryError::Invalid(
                    "cursor is not one this server returned: pass next_cursor from the previous list_memories result unchanged, or omit it to start from the newest".into(),
                )
            })?),
        };
        // One row more than asked says whether there is a next page.
        self.purge_expired(scope).await?;
        let filter = ListFilter {
            tags: &tags,
            author: None,
            after,
            limit: limit + 1,
        };
        let mut memories = self
            .store
            .list_memories(scope, &filter)
            .await
            .map_err(|e| store_failure(e, "list memories"))?;
        let next_cursor = if memories.len() > limit as usize {
            memories.truncate(limit as usize);
            memories.last().map(Cursor::after)
        } else {
            None
        };
        let total = self
            .store
            .count_memories(scope, &tags, None)
            .await
            .map_err(|e| store_failure(e, "count memories"))?;
        Ok(MemoryPage {
            memories,
            next_cursor,
            total,
        })
    }

    pub async fn get(&self, scope: &Scope, id: &str) -> Result<Memory, MemoryError> {
        let id = validate::parse_memory_id(id).map_err(MemoryError::Invalid)?;
        self.find(scope, id).await
    }

    async fn find(&self, scope: &Scope, id: Uuid) -> Result<Memory, MemoryError> {
        self.store
            .get_memory(scope, id)
            .await
            .map_err(|e| store_failure(e, "read the memory"))?
            .ok_or(MemoryError::NotFound(id))
    }

    pub async fn update(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: &str,
        edit: Edit<'_>,
    ) -> Result<Memory, MemoryError> {
        let Edit {
            content,
            tags,
            metadata,
            expires_at,
        } = edit;
        require_write(principal)?;
        let id = validate::parse_memory_id(id).map_err(MemoryError::Invalid)?;
        let now = crate::memory::now();
        let changes = MemoryChanges {
            content: content
                .map(|c| {
                    validate::validate_content(c).map(|c| {
                        let hash = validate::content_hash(&c);
                        (c, hash)
                    })
                })
                .transpose()
                .map_err(MemoryError::Invalid)?,
            tags: tags
                .map(validate::validate_tags)
                .transpose()
                .map_err(MemoryError::Invalid)?,
            metadata: metadata
                .map(validate::validate_metadata)
                .transpose()
                .map_err(MemoryError::Invalid)?,
            expires_at: expires_at
                .map(|e| {
                    e.map(|text| validate::validate_expires_at(text, now))
                        .transpose()
                })
                .transpose()
                .map_err(MemoryError::Invalid)?,
        };
        if changes.is_empty() {
            return Err(MemoryError::Invalid(
                "nothing to update: give content, tags, metadata or expires_at".into(),
            ));
        }
        let current = self.find(scope, id).await?;
        require_owner_or_admin(principal, scope, &current, "change")?;
        // The change happens now, and never before the memory's last change (a clock that
        // stepped back must not make updated_at go back).
        let at = now.max(current.updated_at);
        match self
            .store
            .update_memory(scope, id, &changes, at, principal)
            .await
            .map_err(|e| store_failure(e, "update the memory"))?
        {
            UpdateOutcome::Updated(memory) => {
                self.lexical.note(
                    scope,
                    lexical::Change::Edited(lexical::document_of(&memory)),
                );
                if self.semantic.is_enabled() && changes.content.is_some() {
                    self.semantic
                        .index(self.store.as_ref(), memory.id, &memory.content)
                        .await;
                }
                Ok(memory)
            }
            UpdateOutcome::NotFound => Err(MemoryError::NotFound(id)),
            UpdateOutcome::ContentTaken(other) => Err(MemoryError::ContentTaken(other)),
        }
    }

    pub async fn delete(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: &str,
    ) -> Result<Memory, MemoryError> {
        require_write(principal)?;
        let id = validate::parse_memory_id(id).map_err(MemoryError::Invalid)?;
        let memory = self.find(scope, id).await?;
        require_owner_or_admin(principal, scope, &memory, "delete")?;
        let deleted = self
            .store
            .delete_memories(scope, &[id], principal)
            .await
            .map_err(|e| store_failure(e, "delete the memory"))?;
        if deleted == 0 {
            return Err(MemoryError::NotFound(id));
        }
        self.lexical.note(scope, lexical::Change::Removed(id));
        Ok(memory)
    }

    /// Deletes every memory of the scope (in the shared pool, only the caller's own unless they
    /// are an admin). With backups on, the memories are written to a JSONL file first; if that
    /// fails nothing is deleted.
    pub async fn delete_all(
        &self,
        principal: &Principal,
        scope: &Scope,
        dry_run: bool,
    ) -> Result<u64, MemoryError> {
        require_write(principal)?;
        self.purge_expired(scope).await?;
        let author = (scope.is_shared() && !principal.permissions.admin)
            .then_some(principal.user_id.as_str());
        if dry_run {
            return self
                .store
                .count_memories(scope, &[], author)
                .await
                .map_err(|e| store_failure(e, "count memories"));
        }
        let filter = ListFilter {
            tags: &[],
            author,
            after: None,
            limit: u32::try_from(self.limits.max_memories_per_scope)
                .unwrap_or(u32::MAX)
                .saturating_add(1),
        };
        let memories = self
            .store
            .list_memories(scope, &filter)
            .await
            .map_err(|e| store_failure(e, "list memories"))?;
        if memories.is_empty() {
            return Ok(0);
        }
        if let Some(dir) = &self.limits.backup_dir {
            backup::write(dir, scope, &memories).map_err(|e| {
                tracing::error!(error = %e, dir = %dir.display(), "backup before delete_all_memories failed");
                MemoryError::Internal("write the backup before deleting, so nothing was deleted")
            })?;
        }
        let ids: Vec<Uuid> = memories.iter().map(|m| m.id).collect();
        let deleted = self
            .store
            .delete_memories(scope, &ids, principal)
            .await
            .map_err(|e| store_failure(e, "delete memories"))?;
        // The scope is empty, or nearly: its index is not worth keeping.
        self.lexical.forget(scope);
        Ok(deleted)
    }

    pub async fn history(&self, scope: &Scope, id: &str) -> Result<Vec<HistoryEvent>, MemoryError> {
        let id = validate::parse_memory_id(id).map_err(MemoryError::Invalid)?;
        let events = self
            .store
            .memory_history(scope, id)
            .await
            .map_err(|e| store_failure(e, "read the memory's history"))?;
        if events.is_empty() {
            return Err(MemoryError::NotFound(id));
        }
        Ok(events)
    }

    /// How many memories the scope holds (expired ones purged first).
    pub async fn count(&self, scope: &Scope) -> Result<u64, MemoryError> {
        self.purge_expired(scope).await?;
        self.store
            .count_memories(scope, &[], None)
            .await
            .map_err(|e| store_failure(e, "count memories"))
    }

    /// The semantic-search provider's state and how many of the scope's memories have a
    /// vector of its model.
    pub async fn semantic_status(&self, scope: &Scope) -> Result<SemanticStatus, MemoryError> {
        self.semantic
            .status(self.store.as_ref(), scope)
            .await
            .map_err(|e| store_failure(e, "count the scope's vectors"))
    }

    /// How many of the scope's memories expire within the next `within`.
    pub async fn count_expiring(
        &self,
        scope: &Scope,
        within: chrono::TimeDelta,
    ) -> Result<u64, MemoryError> {
        let now = crate::memory::now();
        self.store
            .count_expiring(scope, now, now + within)
            .await
            .map_err(|e| store_failure(e, "count expiring memories"))
    }

    /// Purges the scope's expired memories (their history keeps the record), so that counts
    /// and the scope limit see only the live ones.
    pub async fn purge_expired(&self, scope: &Scope) -> Result<u64, MemoryError> {
        let purged = self
            .store
            .purge_expired(scope, crate::memory::now())
            .await
            .map_err(|e| store_failure(e, "purge expired memories"))?;
        if purged > 0 {
            tracing::info!(purged, project = %scope.project_id, "purged expired memories");
        }
        Ok(purged)
    }
}

fn require_write(principal: &Principal) -> Result<(), MemoryError> {
    if principal.permissions.write {
        Ok(())
    } else {
        Err(MemoryError::Forbidden(
            "this token is read-only: it may search and read memories but not change them; ask for a token with the write permission".into(),
        ))
    }
}

/// In the shared pool anyone may add, but only the author or an admin may change or delete.
fn require_owner_or_admin(
    principal: &Principal,
    scope: &Scope,
    memory: &Memory,
    verb: &str,
) -> Result<(), MemoryError> {
    if !scope.is_shared() || memory.user_id == principal.user_id || principal.permissions.admin {
        Ok(())
    } else {
        Err(MemoryError::Forbidden(format!(
            "memory {} was written by another user: to {verb} it in the shared pool you need the admin permission",
            memory.id
        )))
    }
}

/// Logs the database detail once and returns what the caller may see.
fn store_failure(error: StoreError, action: &'static str) -> MemoryError {
    match &error {
        StoreError::Unavailable(_) => {
            tracing::warn!(error = %error, "could not {action}: database unreachable");
            MemoryError::Unavailable
        }
        _ if error.is_disk_full() => {
            tracing::error!(error = %error, "could not {action}: the database's disk is full");
            MemoryError::DiskFull
        }
        _ => {
            tracing::error!(error = %error, "could not {action}");
            MemoryError::Internal(action)
        }
    }
}
