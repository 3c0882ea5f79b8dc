//! The MCP methods a session answers ([`ServerHandler`]): its capabilities and instructions,
//! tools (with the write check, the scope resolved at the first call and the per-call timeout),
//! resources and prompts, each kept to the session's scope.

use rmcp::handler::server::tool::{IntoCallToolResult, ToolCallContext};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::{INSTRUCTIONS, MemoryServer, ToolFailure, WRITE_TOOLS};

impl ServerHandler for MemoryServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("mem0-mcp", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS.to_string())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult {
            tools: self.tools.list_all(),
            ..Default::default()
        })
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.admit(&context).await?;
        self.bounded("resources/list", self.resources_page(request))
            .await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(self.resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.admit(&context).await?;
        self.bounded("resources/read", self.read(&request.uri))
            .await
            .map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(self.prompts())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        self.admit(&context).await?;
        self.prompt(&request.name, request.arguments.as_ref())
            .map(Into::into)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools
            .get(name)
            .or_else(|| self.aliases.get(name))
            .cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if let Some(guard) = &self.guard
            && let Err(message) = guard.check(chrono::Utc::now())
        {
            return ToolFailure(message).into_call_tool_result();
        }
        if WRITE_TOOLS.contains(&name.as_str()) && !self.principal.permissions.write {
            return ToolFailure(format!(
                "{name} needs the write permission, and this session's token is read-only: use search_memories, list_memories, get_memory, memory_history or memory_status"
            ))
            .into_call_tool_result();
        }
        let router = if self.tools.has_route(&name) {
            &self.tools
        } else if self.aliases.has_route(&name) {
            &self.aliases
        } else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool '{}': call tools/list for the available tools",
                    crate::identifier::echo(&name)
                ),
                None,
            ));
        };
        self.resolve_scope(&context).await;
        // A cancelled or timed-out call drops its future: the open transaction rolls back and
        // the store interrupts the statement still running (nothing is committed or audited).
        let cancelled = context.ct.clone();
        let call = router.call(ToolCallContext::new(self, request, context));
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(self.timeout, call) => outcome,
            _ = cancelled.cancelled() => {
                tracing::info!(tool = %name, "tool call cancelled by the client; its work was stopped and rolled back");
                return Err(ErrorData::new(
                    rmcp::model::ErrorCode::INTERNAL_ERROR,
                    format!("{name} was cancelled by the client; nothing was changed"),
                    None,
                ));
            }
        };
        match outcome {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(tool = %name, timeout_secs = self.timeout.as_secs(), "tool call timed out");
                ToolFailure(format!(
                    "{name} took longer than {} seconds and was stopped, so nothing was changed; try again, and if it keeps happening check the database (server.timeout / MEM0_TIMEOUT sets the limit)",
                    self.timeout.as_secs()
                ))
                .into_call_tool_result()
            }
        }
    }
}
