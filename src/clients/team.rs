//! Connecting a client to a team server (`client-config --server URL`). Clients that speak
//! Streamable HTTP get an `http` entry whose headers carry the token by reference, never
//! pasted: Claude Code `${MEM0_TOKEN}` (expanded from its environment), VS Code
//! `${input:mem0-token}` (asked once, stored by VS Code), Cursor `${env:MEM0_TOKEN}`. Claude
//! Desktop, which only launches commands, gets this binary as the stdio bridge
//! (`MEM0_SERVER_URL`), with the token as `Launch::carrying` passes it (a file or keychain
//! reference when there is one).

use serde_json::{Value, json};

use super::{Client, Launch, shell_quote};

/// The id of VS Code's prompt for the token.
pub const VSCODE_INPUT: &str = "mem0-token";

/// The variables a bridge launch does not need: it holds no database settings.
const LOCAL_ONLY: &[&str] = &[
    "MEM0_DATABASE_URL",
    "MEM0_DATABASE_URL_FILE",
    "MEM0_DB_HOST",
    "MEM0_DB_PORT",
    "MEM0_DB_NAME",
    "MEM0_DB_USER",
    "MEM0_DB_PASSWORD",
    "MEM0_DB_PASSWORD_FILE",
    "MEM0_DB_SSLMODE",
    "MEM0_DB_SSLCERT",
    "MEM0_DB_SSLKEY",
    "MEM0_DB_SSLROOTCERT",
    "MEM0_DATA_DIR",
    "MEM0_JWT_SECRET",
    "MEM0_JWT_SECRET_FILE",
    "MEM0_STORAGE_TYPE",
];

/// A team server and who connects to it.
#[derive(Debug, Clone)]
pub struct TeamServer {
    /// The MCP endpoint, e.g. `https://mem0.example.com/mcp/`.
    pub url: String,
    /// `X-MCP-UserID`; without it the server takes the token's user.
    pub user_id: Option<String>,
}

impl TeamServer {
    /// The token header's value for `client`: a reference the client resolves.
    fn token_reference(client: Client) -> &'static str {
        match client {
            Client::VsCode => "${input:mem0-token}",
            Client::Cursor => "${env:MEM0_TOKEN}",
            Client::ClaudeCode | Client::ClaudeDesktop => "${MEM0_TOKEN}",
        }
    }

    fn headers(&self, client: Client) -> Value {
        let mut headers = serde_json::Map::new();
        headers.insert(
            "X-MCP-Token".into(),
            Value::from(Self::token_reference(client)),
        );
        if let Some(user) = &self.user_id {
            headers.insert("X-MCP-UserID".into(), Value::from(user.as_str()));
        }
        Value::Object(headers)
    }

    /// The server entry for `client`; `bridge` is the launch Claude Desktop uses.
    pub fn entry(&self, client: Client, bridge: &Launch) -> Value {
        match client {
            Client::ClaudeDesktop => client.entry(bridge),
            Client::Cursor => json!({ "url": self.url, "headers": self.headers(client) }),
            Client::VsCode | Client::ClaudeCode => {
                json!({ "type": "http", "url": self.url, "headers": self.headers(client) })
            }
        }
    }

    /// A complete configuration with just this server (VS Code's with its token prompt).
    pub fn snippet(&self, client: Client, name: &str, bridge: &Launch) -> Value {
        let mut snippet = json!({ client.servers_key(): { name: self.entry(client, bridge) } });
        if client == Client::VsCode {
            snippet["inputs"] = json!([vscode_input()]);
        }
        snippet
    }

    /// `claude mcp add --transport http …` for every project (user scope); the token stays a
    /// `${MEM0_TOKEN}` reference (single-quoted, so the shell leaves it to Claude Code, which
    /// expands it from its environment at each start).
    pub fn claude_add_command(&self, name: &str) -> String {
        let mut command = format!(
            "claude mcp add --transport http --scope user {} {} -H 'X-MCP-Token: ${{MEM0_TOKEN}}'",
            shell_quote(name),
            shell_quote(&self.url)
        );
        if let Some(user) = &self.user_id {
            command.push_str(&format!(
                " -H {}",
                shell_quote(&format!("X-MCP-UserID: {user}"))
            ));
        }
        command
    }
}

/// VS Code's prompt for the token (`password`: typed hidden, stored by VS Code).
pub fn vscode_input() -> Value {
    json!({
        "type": "promptString",
        "id": VSCODE_INPUT,
        "description": "mem0 team server token (from `mem0-mcp token create`)",
        "password": true,
    })
}

/// The bridge launch: `local` (what `Launch::carrying` made of the settings here) without
/// database settings, plus `MEM0_SERVER_URL`.
pub fn bridge_launch(local: &Launch, server: &TeamServer) -> Launch {
    let mut launch = Launch::new(local.command.clone());
    launch.set("MEM0_SERVER_URL", server.url.clone());
    for (name, value) in &local.env {
        if !LOCAL_ONLY.contains(&name.as_str()) {
            launch.set(name.clone(), value.clone());
        }
    }
    if let Some(user) = &server.user_id {
        launch.set("MEM0_USER_ID", user.clone());
    }
    launch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> TeamServer {
        TeamServer {
            url: "https://mem0.example.com/mcp/".into(),
            user_id: Some("alice@example.com".into()),
        }
    }

    #[test]
    fn http_entries_reference_the_token_and_never_paste_it() {
        let bridge = Launch::new("/usr/bin/mem0-mcp");
        let code = server().entry(Client::ClaudeCode, &bridge);
        assert_eq!(code["type"], "http");
        assert_eq!(code["headers"]["X-MCP-Token"], "${MEM0_TOKEN}");
        assert_eq!(code["headers"]["X-MCP-UserID"], "alice@example.com");
        let vscode = server().snippet(Client::VsCode, "mem0", &bridge);
        assert_eq!(
            vscode["servers"]["mem0"]["headers"]["X-MCP-Token"],
            "${input:mem0-token}"
        );
        assert_eq!(vscode["inputs"][0]["id"], VSCODE_INPUT);
        assert_eq!(vscode["inputs"][0]["password"], true);
        let cursor = server().entry(Client::Cursor, &bridge);
        assert_eq!(cursor["headers"]["X-MCP-Token"], "${env:MEM0_TOKEN}");
        assert_eq!(
            server().claude_add_command("mem0"),
            "claude mcp add --transport http --scope user 'mem0' 'https://mem0.example.com/mcp/' -H 'X-MCP-Token: ${MEM0_TOKEN}' -H 'X-MCP-UserID: alice@example.com'"
        );
    }

    #[test]
    fn the_bridge_carries_no_database_settings() {
        let local = Launch::new("/usr/bin/mem0-mcp")
            .var("MEM0_DATABASE_URL_FILE", "/etc/mem0/url")
            .var("MEM0_TOKEN_FILE", "/home/a/.config/mem0/token")
            .var("PROJECT_ID_MODE", "auto");
        let bridge = bridge_launch(&local, &server());
        assert_eq!(
            bridge.get("MEM0_SERVER_URL"),
            Some("https://mem0.example.com/mcp/")
        );
        assert_eq!(
            bridge.get("MEM0_TOKEN_FILE"),
            Some("/home/a/.config/mem0/token")
        );
        assert_eq!(bridge.get("MEM0_USER_ID"), Some("alice@example.com"));
        assert_eq!(bridge.get("MEM0_DATABASE_URL_FILE"), None);
    }
}
