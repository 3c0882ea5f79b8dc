//! The MCP handler behind `serve --http`: for each request, the memory server acting for the
//! caller the gate authenticated, on the scope it resolved (both travel in the HTTP request's
//! extensions, which rmcp hands to the handler). Two prototypes, with and without the write
//! tools, are built once; a request only clones one. Tools, resources and prompts all go
//! through that per-request server, so they keep the stdio server's scope and permission rules.

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::gate::Admitted;
use crate::mcp::MemoryServer;

/// The per-request dispatcher (see the module docs).
#[derive(Debug, Clone)]
pub struct HttpHandler {
    writer: MemoryServer,
    reader: MemoryServer,
}

impl HttpHandler {
    /// `writer` was built for a principal with `write`, `reader` for one without.
    pub fn new(writer: MemoryServer, reader: MemoryServer) -> Self {
        HttpHandler { writer, reader }
    }

    fn server_for(&self, context: &RequestContext<RoleServer>) -> Result<MemoryServer, ErrorData> {
        let admitted = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Admitted>())
            .ok_or_else(|| ErrorData::internal_error("the request was not authenticated", None))?;
        let prototype = if admitted.principal.permissions.write {
            &self.writer
        } else {
            &self.reader
        };
        Ok(prototype.for_request(admitted.principal.clone(), admitted.scope.clone()))
    }
}

impl ServerHandler for HttpHandler {
    fn get_info(&self) -> ServerConfig {
        self.writer.get_info()
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let server = self.server_for(&context)?;
        server.list_tools(request, context).await
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.writer.get_tool(name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let server = self.server_for(&context)?;
        server.call_tool(request, context).await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let server = self.server_for(&context)?;
        server.list_resources(request, context).await
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let server = self.server_for(&context)?;
        server.list_resource_templates(request, context).await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let server = self.server_for(&context)?;
        server.read_resource(request, context).await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let server = self.server_for(&context)?;
        server.list_prompts(request, context).await
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let server = self.server_for(&context)?;
        server.get_prompt(request, context).await
    }
}
