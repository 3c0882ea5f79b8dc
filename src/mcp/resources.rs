//! MCP resources and prompts, under the same scope and permission rules as the tools:
//! `mem0://status` (the session's scope and counts), the template `mem0://memories/{id}` (one
//! memory of the scope; another user's id is "not found", as for `get_memory`), and
//! `resources/list` over the scope's memories, newest first, a page at a time, so a client can
//! attach a memory with `@`. The prompts `remember` (argument `fact`) and `recall` (argument
//! `topic`) lead the model to `add_memory` and `search_memories`.

use rmcp::ErrorData;
use rmcp::model::{
    GetPromptResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    PaginatedRequestParams, Prompt, PromptArgument, PromptMessage, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Role,
};

use super::views::{MemoryResult, MemoryView, ScopeView};
use super::{MemoryServer, ToolFailure};
use crate::service::MemoryError;

/// The session's scope and counts.
pub const STATUS_URI: &str = "mem0://status";
/// One memory of the scope.
pub const MEMORY_TEMPLATE: &str = "mem0://memories/{id}";
const MEMORY_PREFIX: &str = "mem0://memories/";
/// Memories per `resources/list` page.
const PAGE: i64 = 50;
const JSON: &str = "application/json";

fn json_contents(value: &impl serde::Serialize, uri: &str) -> Result<ResourceContents, ErrorData> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ErrorData::internal_error(format!("serializing {uri}: {e}"), None))?;
    Ok(ResourceContents::text(text, uri).with_mime_type(JSON))
}

fn failure(error: ToolFailure) -> ErrorData {
    ErrorData::internal_error(error.0, None)
}

fn memory_error(error: MemoryError, uri: &str) -> ErrorData {
    match error {
        MemoryError::NotFound(_) => ErrorData::resource_not_found(
            format!("{uri}: {error}"),
            Some(serde_json::json!({ "uri": uri })),
        ),
        MemoryError::Invalid(_) => ErrorData::invalid_params(format!("{uri}: {error}"), None),
        other => ErrorData::internal_error(other.to_string(), None),
    }
}

impl MemoryServer {
    /// The status resource first, then the scope's memories newest first; `cursor` is a
    /// `list_memories` cursor.
    pub(super) async fn resources_page(
        &self,
        request: Option<PaginatedRequestParams>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let scope = self.scope().map_err(failure)?;
        let cursor = request.and_then(|r| r.cursor);
        let page = self
            .service
            .list(scope, Some(PAGE), cursor.as_deref(), None)
            .await
            .map_err(|e| memory_error(e, "resources/list"))?;
        let mut resources = Vec::with_capacity(page.memories.len() + 1);
        if cursor.is_none() {
            resources.push(
                Resource::new(STATUS_URI, "status")
                    .with_title("Memory status")
                    .with_description(
                        "This session's user, project and mode, how many memories the scope holds, and what it may do",
                    )
                    .with_mime_type(JSON),
            );
        }
        for memory in &page.memories {
            let title: String = memory.content.chars().take(80).collect();
            resources.push(
                Resource::new(
                    format!("{MEMORY_PREFIX}{}", memory.id),
                    memory.id.to_string(),
                )
                .with_title(title)
                .with_description(format!(
                    "Memory of project {}, updated {}",
                    scope.project_id,
                    memory.updated_at.format("%Y-%m-%d %H:%M UTC")
                ))
                .with_mime_type(JSON),
            );
        }
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = page.next_cursor.map(|c| c.encode());
        Ok(result)
    }

    pub(super) fn resource_templates(&self) -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(MEMORY_TEMPLATE, "memory")
                .with_title("A memory")
                .with_description(
                    "One memory of this session's scope, by id, as get_memory returns it",
                )
                .with_mime_type(JSON),
        ])
    }

    pub(super) async fn read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        if uri == STATUS_URI {
            let status = self.status().await.map_err(failure)?;
            return Ok(ReadResourceResult::new(vec![json_contents(&status, uri)?]));
        }
        let Some(id) = uri.strip_prefix(MEMORY_PREFIX) else {
            return Err(ErrorData::resource_not_found(
                format!(
                    "unknown resource '{uri}': this server has {STATUS_URI} and {MEMORY_TEMPLATE}"
                ),
                Some(serde_json::json!({ "uri": uri })),
            ));
        };
        let scope = self.scope().map_err(failure)?;
        let memory = self
            .service
            .get(scope, id)
            .await
            .map_err(|e| memory_error(e, uri))?;
        let result = MemoryResult {
            memory: MemoryView::new(&memory, scope),
            scope: ScopeView::from(scope),
        };
        Ok(ReadResourceResult::new(vec![json_contents(&result, uri)?]))
    }

    /// `remember` only for sessions that may write.
    pub(super) fn prompts(&self) -> ListPromptsResult {
        let mut prompts = Vec::new();
        if self.principal.permissions.write {
            prompts.push(Prompt::new(
                "remember",
                Some("Remember a fact for later sessions in this project (add_memory)"),
                Some(vec![
                    PromptArgument::new("fact")
                        .with_description("The fact to remember, self-contained and specific")
                        .with_required(true),
                ]),
            ));
        }
        prompts.push(Prompt::new(
            "recall",
            Some("Recall what this project's memory holds about a topic (search_memories)"),
            Some(vec![
                PromptArgument::new("topic")
                    .with_description("What to look for: a few specific words")
                    .with_required(true),
            ]),
        ));
        ListPromptsResult::with_all_items(prompts)
    }

    pub(super) fn prompt(
        &self,
        name: &str,
        arguments: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<GetPromptResult, ErrorData> {
        let scope = self.scope().map_err(failure)?;
        let argument = |key: &str| -> Result<String, ErrorData> {
            arguments
                .and_then(|a| a.get(key))
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!("prompt '{name}' needs the argument '{key}' (text)"),
                        None,
                    )
                })
        };
        let label = format!(
            "project {} ({} mode, user {})",
            scope.project_id,
            scope.mode.as_str(),
            scope.user_id
        );
        let (description, text) = match name {
            "remember" if self.principal.permissions.write => {
                let fact = argument("fact")?;
                (
                    "Remember a fact",
                    format!(
                        "Remember this for later sessions in {label}. Call add_memory with this fact as content, rephrased only if needed to make it self-contained and specific, with a few short tags if they help. If it contradicts something already remembered (search_memories first), update_memory that one instead.\n\nFact: {fact}"
                    ),
                )
            }
            "recall" => {
                let topic = argument("topic")?;
                (
                    "Recall a topic",
                    format!(
                        "Call search_memories with the query \"{topic}\" (it searches {label}), and tell me what the memories say about it, citing their ids. If nothing is found, say so, and try one or two other wordings first."
                    ),
                )
            }
            _ => {
                return Err(ErrorData::invalid_params(
                    format!("unknown prompt '{name}': call prompts/list for the available prompts"),
                    None,
                ));
            }
        };
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(description),
        )
    }
}
