//! The MCP face of the server: tool definitions (descriptions, limits, annotations, schemas),
//! thin handlers that call the memory service, and the `ServerHandler` that filters the tool
//! list by permission, refuses calls once the session's token is revoked, resolves the scope at
//! the first call and bounds every call in time.

pub mod bridge;
mod envelope;
mod handler;
pub mod http;
mod params;
mod resources;
mod scope;
pub mod shutdown;
pub mod stdio;
mod views;

pub use resources::{MEMORY_TEMPLATE, STATUS_URI};
pub use scope::{ScopePlan, path_of_file_uri};

use std::sync::Arc;
use std::time::Duration;

use rmcp::handler::server::common::schema_for_output;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, ProtocolVersion};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::access::Principal;
use crate::auth::{AuditLog, SessionGuard};
use crate::memory::Scope;
use crate::service::{Edit, MemoryError, MemoryService};
use params::*;
use views::*;

/// What `initialize` tells the model about when to use the tools.
pub const INSTRUCTIONS: &str = "Long-term memory for this user and project. \
At the start of a task, and whenever the user refers to earlier decisions, conventions or \
preferences, call search_memories with a few specific words. When you learn something worth \
keeping for later sessions (a convention, a preference, a decision, a command that works, a \
pitfall), call add_memory with one self-contained fact. When a remembered fact is no longer \
true, update_memory or delete_memory it rather than adding a contradiction. Never store \
secrets such as passwords or tokens.";

/// Tools that change memories: hidden from, and refused to, sessions without `write`.
const WRITE_TOOLS: &[&str] = &[
    "add_memory",
    "update_memory",
    "delete_memory",
    "delete_all_memories",
    "add_coding_preference",
];

/// A successful tool result: structured JSON plus its text rendering.
struct Reply<T>(T);

impl<T: Serialize + Render> IntoCallToolResult for Reply<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let value = serde_json::to_value(&self.0)
            .map_err(|e| ErrorData::internal_error(format!("serializing the result: {e}"), None))?;
        let mut result = CallToolResult::structured(value);
        result.content = vec![ContentBlock::text(self.0.render())];
        Ok(result.into())
    }
}

impl Serialize for MemoryOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.result.serialize(s)
    }
}

/// A failure the model can act on: `isError: true` with one clear sentence.
#[derive(Debug)]
struct ToolFailure(String);

impl IntoCallToolResult for ToolFailure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(self.0)]).into())
    }
}

impl From<MemoryError> for ToolFailure {
    fn from(error: MemoryError) -> Self {
        ToolFailure(error.to_string())
    }
}

type ToolResult<T> = Result<Reply<T>, ToolFailure>;

#[derive(Clone)]
pub struct MemoryServer {
    service: Arc<MemoryService>,
    principal: Principal,
    plan: ScopePlan,
    scope: Arc<OnceCell<Scope>>,
    timeout: Duration,
    tools: ToolRouter<Self>,
    aliases: ToolRouter<Self>,
    /// Set when the session authenticated with a token: consulted before every call.
    guard: Option<Arc<SessionGuard>>,
    audit: Option<AuditLog>,
}

impl std::fmt::Debug for MemoryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryServer")
            .field("principal", &self.principal)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

impl MemoryServer {
    pub fn new(
        service: Arc<MemoryService>,
        principal: Principal,
        plan: ScopePlan,
        timeout: Duration,
    ) -> Self {
        let mut tools = Self::tool_router();
        let mut aliases = Self::alias_router();
        if !principal.permissions.write {
            for name in WRITE_TOOLS {
                tools.disable_route(*name);
                aliases.disable_route(*name);
            }
        }
        let scope = Arc::new(OnceCell::new_with(plan.without_client()));
        MemoryServer {
            service,
            principal,
            plan,
            scope,
            timeout,
            tools,
            aliases,
            guard: None,
            audit: None,
        }
    }

    /// This server acting for another caller on a scope known in advance: the HTTP transport
    /// makes one per request from a prototype with the caller's permissions, so the tool
    /// routers are built once.
    pub fn for_request(&self, principal: Principal, scope: Scope) -> MemoryServer {
        let mut server = self.clone();
        server.plan.user_id = principal.user_id.clone();
        server.principal = principal;
        server.scope = Arc::new(OnceCell::new_with(Some(scope)));
        server
    }

    /// Refuse every call once the token behind this session stops working.
    pub fn with_session_guard(mut self, guard: Arc<SessionGuard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Record bulk deletes in the audit log.
    pub fn with_audit(mut self, audit: AuditLog) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Refuses a request once the session's token stopped working, and resolves the scope, as
    /// before every tool call.
    async fn admit(&self, context: &RequestContext<RoleServer>) -> Result<(), ErrorData> {
        if let Some(guard) = &self.guard
            && let Err(message) = guard.check(chrono::Utc::now())
        {
            return Err(ErrorData::invalid_request(message, None));
        }
        self.resolve_scope(context).await;
        Ok(())
    }

    /// Runs `work` within the session's time limit.
    async fn bounded<T>(
        &self,
        what: &str,
        work: impl std::future::Future<Output = Result<T, ErrorData>>,
    ) -> Result<T, ErrorData> {
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(ErrorData::internal_error(
                    format!(
                        "{what} took longer than {} seconds and was stopped; try again (server.timeout / MEM0_TIMEOUT sets the limit)",
                        self.timeout.as_secs()
                    ),
                    None,
                ))
            })
    }

    fn scope(&self) -> Result<&Scope, ToolFailure> {
        self.scope.get().ok_or_else(|| {
            ToolFailure("the project is not resolved yet; call the tool again".into())
        })
    }

    /// In `auto` mode without `PROJECT_DIR`, ask a client that supports roots for its first
    /// root; fall back to the working directory.
    async fn resolve_scope(&self, context: &RequestContext<RoleServer>) -> &Scope {
        self.scope
            .get_or_init(|| async {
                if let Some(dir) = self.first_client_root(context).await {
                    return self.plan.from_dir(&dir);
                }
                self.plan.from_working_dir()
            })
            .await
    }

    #[allow(deprecated)] // roots: still what today's clients send, before protocol 2026-07-28
    async fn first_client_root(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Option<std::path::PathBuf> {
        let info = context.peer.peer_info()?;
        info.capabilities.roots.as_ref()?;
        if info.protocol_version >= ProtocolVersion::V_2026_07_28 {
            return None;
        }
        let roots = tokio::time::timeout(Duration::from_secs(3), context.peer.list_roots())
            .await
            .map_err(|_| {
                tracing::warn!(
                    "the client did not answer roots/list within 3 s; using the working directory"
                )
            })
            .ok()?
            .map_err(
                |e| tracing::warn!(error = %e, "roots/list failed; using the working directory"),
            )
            .ok()?;
        roots
            .roots
            .iter()
            .find_map(|root| path_of_file_uri(&root.uri))
    }
}

#[tool_router(router = tool_router)]
impl MemoryServer {
    #[tool(
        description = "Remember one fact for later sessions in this project: a convention, preference, decision, working command or pitfall. Use it when you learn something worth keeping; search_memories first if it may already be stored. Content is 1 byte to 32 KiB; up to 20 tags of at most 64 characters; metadata is a JSON object of at most 8 KiB; expires_at (RFC 3339, in the future) makes a temporary fact forget itself. Storing the same content again returns the existing memory with deduplicated: true. Fails when the scope is at its limit. Never store secrets.",
        annotations(title = "Add memory", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<AddMemoryResult>()
    )]
    async fn add_memory(
        &self,
        Parameters(p): Parameters<AddMemoryParams>,
    ) -> ToolResult<AddMemoryResult> {
        let scope = self.scope()?;
        let (memory, deduplicated) = self
            .service
            .add(
                &self.principal,
                scope,
                &p.content,
                p.tags.as_deref(),
                p.metadata.as_ref(),
                p.expires_at.as_deref(),
            )
            .await?;
        Ok(Reply(AddMemoryResult {
            memory: MemoryView::new(&memory, scope),
            deduplicated,
            scope: scope.into(),
        }))
    }

    #[tool(
        description = "Find remembered facts relevant to a question or task, best match first, with a score. Use it at the start of a task and whenever earlier decisions, conventions or preferences may matter. The query is free text (1 to 2048 characters): plain words, identifiers, file names and version strings all work. limit is 1 to 100 (default 10); tags keeps only memories with all of them.",
        annotations(title = "Search memories", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<SearchMemoriesResult>()
    )]
    async fn search_memories(
        &self,
        Parameters(p): Parameters<SearchMemoriesParams>,
    ) -> ToolResult<SearchMemoriesResult> {
        let scope = self.scope()?;
        let found = self
            .service
            .search(scope, &p.query, p.limit, p.tags.as_deref())
            .await?;
        Ok(Reply(SearchMemoriesResult {
            results: found.iter().map(|f| MemoryView::scored(f, scope)).collect(),
            scope: scope.into(),
        }))
    }

    #[tool(
        description = "List remembered facts newest first, one page at a time, with the total count. Use it to review everything stored; use search_memories to find something specific. limit is 1 to 100 (default 50); pass next_cursor from the previous page as cursor for the next one; tags keeps only memories with all of them.",
        annotations(title = "List memories", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<ListMemoriesResult>()
    )]
    async fn list_memories(
        &self,
        Parameters(p): Parameters<ListMemoriesParams>,
    ) -> ToolResult<ListMemoriesResult> {
        let scope = self.scope()?;
        let page = self
            .service
            .list(scope, p.limit, p.cursor.as_deref(), p.tags.as_deref())
            .await?;
        Ok(Reply(ListMemoriesResult {
            memories: page
                .memories
                .iter()
                .map(|m| MemoryView::new(m, scope))
                .collect(),
            next_cursor: page.next_cursor.map(|c| c.encode()),
            total: page.total,
            scope: scope.into(),
        }))
    }

    #[tool(
        description = "Read one memory by its id (as returned by search_memories or list_memories).",
        annotations(title = "Get memory", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<MemoryResult>()
    )]
    async fn get_memory(
        &self,
        Parameters(p): Parameters<MemoryIdParams>,
    ) -> ToolResult<MemoryOutcome> {
        let scope = self.scope()?;
        let memory = self.service.get(scope, &p.id).await?;
        Ok(outcome("Memory", &memory, scope))
    }

    #[tool(
        description = "Correct a remembered fact that changed: replace its content, tags, metadata or expires_at (each optional; give at least one; expires_at null makes it last). Prefer this to adding a contradicting memory. In global mode only the author or an admin may change a memory.",
        annotations(title = "Update memory", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<MemoryResult>()
    )]
    async fn update_memory(
        &self,
        Parameters(p): Parameters<UpdateMemoryParams>,
    ) -> ToolResult<MemoryOutcome> {
        let scope = self.scope()?;
        let memory = self
            .service
            .update(
                &self.principal,
                scope,
                &p.id,
                Edit {
                    content: p.content.as_deref(),
                    tags: p.tags.as_deref(),
                    metadata: p.metadata.as_ref(),
                    expires_at: p.expires_at.as_ref().map(Option::as_deref),
                },
            )
            .await?;
        Ok(outcome("Updated", &memory, scope))
    }

    #[tool(
        description = "Forget one memory that is wrong or no longer true, by id. Its history is kept (memory_history). In global mode only the author or an admin may delete a memory.",
        annotations(title = "Delete memory", read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false),
        output_schema = schema_for_output::<MemoryResult>()
    )]
    async fn delete_memory(
        &self,
        Parameters(p): Parameters<MemoryIdParams>,
    ) -> ToolResult<MemoryOutcome> {
        let scope = self.scope()?;
        let memory = self.service.delete(&self.principal, scope, &p.id).await?;
        Ok(outcome("Deleted", &memory, scope))
    }

    #[tool(
        description = "Delete every memory of this scope (this user and project; in global mode your own memories, or all of them with admin). Only when the user explicitly asks to wipe the project's memory. Requires confirm: true; dry_run: true only counts. A backup file is written first when backups are enabled.",
        annotations(title = "Delete all memories", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<DeleteAllResult>()
    )]
    async fn delete_all_memories(
        &self,
        Parameters(p): Parameters<DeleteAllParams>,
    ) -> ToolResult<DeleteAllResult> {
        let scope = self.scope()?;
        if !p.confirm {
            return Err(ToolFailure(
                "nothing was deleted: set confirm to true to delete every memory of this scope (or dry_run to count them first)".into(),
            ));
        }
        let dry_run = p.dry_run.unwrap_or(false);
        let deleted = self
            .service
            .delete_all(&self.principal, scope, dry_run)
            .await?;
        if !dry_run
            && deleted > 0
            && let Some(audit) = &self.audit
        {
            audit.bulk_delete(&self.principal, scope, deleted).await;
        }
        Ok(Reply(DeleteAllResult {
            deleted,
            dry_run,
            scope: scope.into(),
        }))
    }

    #[tool(
        description = "Show how a memory changed over time: its ADD, UPDATE and DELETE events with who made them and when, oldest first. Works for deleted memories too.",
        annotations(title = "Memory history", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<MemoryHistoryResult>()
    )]
    async fn memory_history(
        &self,
        Parameters(p): Parameters<MemoryIdParams>,
    ) -> ToolResult<MemoryHistoryResult> {
        let scope = self.scope()?;
        let events = self.service.history(scope, &p.id).await?;
        Ok(Reply(MemoryHistoryResult {
            events: events.iter().map(HistoryEventView::from).collect(),
            scope: scope.into(),
        }))
    }

    #[tool(
        description = "Show where memories go and what this session may do: user, project, mode, database backend, how many memories the scope holds, its limit and how many expire within 7 days, permissions, server version, and whether search uses meaning (the embedding provider, its model and state, how many memories have a vector). Use it when unsure which project memories land in.",
        annotations(title = "Memory status", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<MemoryStatusResult>()
    )]
    async fn memory_status(&self) -> ToolResult<MemoryStatusResult> {
        Ok(Reply(self.status().await?))
    }
}

impl MemoryServer {
    /// What `memory_status` and the `mem0://status` resource show.
    async fn status(&self) -> Result<MemoryStatusResult, ToolFailure> {
        let scope = self.scope()?;
        let count = self.service.count(scope).await?;
        let expiring_within_7_days = self
            .service
            .count_expiring(scope, chrono::TimeDelta::days(7))
            .await?;
        Ok(MemoryStatusResult {
            user_id: scope.user_id.clone(),
            project_id: scope.project_id.clone(),
            mode: scope.mode,
            backend: self.service.store().backend().as_str().into(),
            count,
            limit: self.service.limits().max_memories_per_scope,
            expiring_within_7_days,
            permissions: self
                .principal
                .permissions
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
            version: env!("CARGO_PKG_VERSION").into(),
            semantic: self.service.semantic_status(scope).await?.into(),
            scope: scope.into(),
        })
    }
}

fn outcome(
    verb: &'static str,
    memory: &crate::memory::Memory,
    scope: &Scope,
) -> Reply<MemoryOutcome> {
    Reply(MemoryOutcome {
        verb,
        result: MemoryResult {
            memory: MemoryView::new(memory, scope),
            scope: scope.into(),
        },
    })
}

/// The tool names of the first mem0 MCP servers, still accepted so old prompts keep working,
/// but not listed.
#[tool_router(router = alias_router)]
impl MemoryServer {
    #[tool(name = "add_coding_preference", description = "Alias of add_memory.")]
    async fn add_coding_preference(
        &self,
        Parameters(p): Parameters<LegacyAddParams>,
    ) -> ToolResult<AddMemoryResult> {
        self.add_memory(Parameters(AddMemoryParams {
            content: p.text,
            tags: None,
            metadata: None,
            expires_at: None,
        }))
        .await
    }

    #[tool(
        name = "search_coding_preferences",
        description = "Alias of search_memories."
    )]
    async fn search_coding_preferences(
        &self,
        Parameters(p): Parameters<LegacySearchParams>,
    ) -> ToolResult<SearchMemoriesResult> {
        self.search_memories(Parameters(SearchMemoriesParams {
            query: p.query,
            limit: p.limit,
            tags: None,
        }))
        .await
    }

    #[tool(
        name = "get_all_coding_preferences",
        description = "Alias of list_memories (first 100)."
    )]
    async fn get_all_coding_preferences(&self) -> ToolResult<ListMemoriesResult> {
        self.list_memories(Parameters(ListMemoriesParams {
            limit: Some(100),
            cursor: None,
            tags: None,
        }))
        .await
    }

    #[tool(name = "get_memory_history", description = "Alias of memory_history.")]
    async fn get_memory_history(
        &self,
        Parameters(p): Parameters<LegacyHistoryParams>,
    ) -> ToolResult<MemoryHistoryResult> {
        self.memory_history(Parameters(MemoryIdParams { id: p.memory_id }))
            .await
    }
}
