//! What mem0-mcp knows about the MCP clients that launch it: where each keeps its configuration
//! on Linux, macOS and Windows, the JSON shape of a server entry there, how it picks the working
//! directory (and so how `auto` mode finds the project), and the `claude mcp add` command line.
//! [`config_file`] reads and merges those files; [`launch`] says how a client starts the server
//! with the settings in effect. Nothing here prints.

pub mod config_file;
pub mod launch;
pub mod team;

pub use launch::Launch;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The server name used in client configurations unless another is asked for.
pub const DEFAULT_SERVER_NAME: &str = "mem0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    VsCode,
    Cursor,
}

/// The operating system whose file locations apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

/// The directories client configurations live under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    pub os: Os,
    /// The home directory (`%USERPROFILE%` on Windows).
    pub home: PathBuf,
    /// The per-user configuration directory: `$XDG_CONFIG_HOME` or `~/.config` on Linux,
    /// `~/Library/Application Support` on macOS, `%APPDATA%` on Windows.
    pub config: PathBuf,
}

impl Dirs {
    /// This machine's directories (the environment's `HOME` and `XDG_CONFIG_HOME` included).
    pub fn current() -> Option<Dirs> {
        let base = directories::BaseDirs::new()?;
        Some(Dirs {
            os: Os::current(),
            home: base.home_dir().to_path_buf(),
            config: base.config_dir().to_path_buf(),
        })
    }
}

/// The absolute path of this binary, as clients should launch it (symlinks resolved, so a
/// client keeps working when a link changes; on Windows as given, since canonical paths there
/// are `\\?\` paths some clients cannot start). `mem0-mcp` when it cannot be found.
pub fn current_binary() -> PathBuf {
    let exe = std::env::current_exe();
    #[cfg(not(windows))]
    let exe = exe.and_then(|p| p.canonicalize());
    exe.unwrap_or_else(|_| PathBuf::from("mem0-mcp"))
}

impl Client {
    pub const ALL: [Client; 4] = [
        Client::ClaudeDesktop,
        Client::VsCode,
        Client::ClaudeCode,
        Client::Cursor,
    ];

    /// The names `--client` takes.
    pub const NAMES: [&'static str; 4] = ["claude-desktop", "vscode", "claude-code", "cursor"];

    pub fn name(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude-desktop",
            Client::VsCode => "vscode",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
        }
    }

    pub fn from_name(name: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "Claude Desktop",
            Client::VsCode => "VS Code",
            Client::ClaudeCode => "Claude Code",
            Client::Cursor => "Cursor",
        }
    }

    /// The user-level configuration file the client reads its MCP servers from.
    pub fn config_path(self, dirs: &Dirs) -> PathBuf {
        match self {
            // Claude Desktop: %APPDATA%\Claude on Windows, ~/Library/Application Support/Claude
            // on macOS; the Linux builds follow XDG.
            Client::ClaudeDesktop => dirs
                .config
                .join("Claude")
                .join("claude_desktop_config.json"),
            // The user-level mcp.json next to settings.json (a workspace has .vscode/mcp.json).
            Client::VsCode => dirs.config.join("Code").join("User").join("mcp.json"),
            // User scope (`claude mcp add --scope user`) lives at the top of ~/.claude.json.
            Client::ClaudeCode => dirs.home.join(".claude.json"),
            Client::Cursor => dirs.home.join(".cursor").join("mcp.json"),
        }
    }

    /// Whether the client looks installed: its configuration file or directory exists.
    pub fn detected(self, dirs: &Dirs) -> bool {
        let path = self.config_path(dirs);
        match self {
            Client::ClaudeCode => path.exists(),
            _ => path.parent().is_some_and(Path::is_dir),
        }
    }

    /// The key that holds the servers in the configuration file.
    pub fn servers_key(self) -> &'static str {
        match self {
            Client::VsCode => "servers",
            _ => "mcpServers",
        }
    }

    /// Whether the client expands `${workspaceFolder}` in a server's environment.
    pub fn expands_workspace_folder(self) -> bool {
        matches!(self, Client::VsCode | Client::Cursor)
    }

    /// The server entry for this client's configuration file.
    pub fn entry(self, launch: &Launch) -> Value {
        let mut env = Map::new();
        for (name, value) in &launch.env {
            env.insert(name.clone(), Value::from(value.as_str()));
        }
        // The workspace is the project: let the client say which one it has open.
        let auto = launch
            .get("PROJECT_ID_MODE")
            .is_none_or(|mode| mode == "auto");
        if self.expands_workspace_folder() && auto && launch.get("PROJECT_DIR").is_none() {
            env.insert("PROJECT_DIR".into(), Value::from("${workspaceFolder}"));
        }
        let mut entry = Map::new();
        if matches!(self, Client::VsCode | Client::ClaudeCode) {
            entry.insert("type".into(), Value::from("stdio"));
        }
        entry.insert(
            "command".into(),
            Value::from(launch.command.display().to_string()),
        );
        if !launch.args.is_empty() || self == Client::ClaudeCode {
            entry.insert("args".into(), json!(launch.args));
        }
        if !env.is_empty() {
            entry.insert("env".into(), Value::Object(env));
        }
        Value::Object(entry)
    }

    /// A complete configuration holding just this server, ready to paste.
    pub fn snippet(self, name: &str, launch: &Launch) -> Value {
        json!({ self.servers_key(): { name: self.entry(launch) } })
    }

    /// How the project is found when this client starts the server in `auto` mode.
    pub fn project_note(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => {
                "Claude Desktop starts servers in / or your home directory and has no open folder, so `auto` mode uses the client's MCP roots when it sends any, else your `default` project (with a warning in the log); set PROJECT_DIR, or PROJECT_ID_MODE=manual with PROJECT_ID, to keep projects apart."
            }
            Client::ClaudeCode => {
                "Claude Code starts the server in the directory you run `claude` in, so `auto` mode picks the project up from there by itself."
            }
            Client::VsCode => {
                "VS Code expands ${workspaceFolder} to the open folder, so PROJECT_DIR names the project; with no folder open it falls back to the client's MCP roots."
            }
            Client::Cursor => {
                "Cursor expands ${workspaceFolder} to the open project, so PROJECT_DIR names it; with no folder open it falls back to the client's MCP roots."
            }
        }
    }

    /// Where to look in the client for the server's log.
    pub fn restart_hint(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "quit and reopen Claude Desktop",
            Client::ClaudeCode => "start a new `claude` session (`/mcp` lists the servers)",
            Client::VsCode => "run \"MCP: List Servers\" in VS Code and start mem0",
            Client::Cursor => "reopen Cursor or toggle mem0 under Settings → MCP",
        }
    }
}

/// The `claude mcp add` command that registers the server for every project (user scope).
pub fn claude_add_command(name: &str, launch: &Launch) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let name = if plain(name) {
        name.to_owned()
    } else {
        shell_quote(name)
    };
    let mut command = format!("claude mcp add {name}");
    for (var, value) in &launch.env {
        let var = if plain(var) {
            var.clone()
        } else {
            shell_quote(var)
        };
        command.push_str(&format!(" -e {var}={}", shell_quote(value)));
    }
    // After the variadic -e values, so the server name is never taken for one of them.
    command.push_str(" --scope user -- ");
    command.push_str(&shell_quote(&launch.command.display().to_string()));
    for arg in &launch.args {
        command.push(' ');
        command.push_str(&shell_quote(arg));
    }
    command
}

/// Quotes a value for a POSIX shell.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(os: Os) -> Dirs {
        match os {
            Os::Linux => Dirs {
                os,
                home: "/home/al".into(),
                config: "/home/al/.config".into(),
            },
            Os::MacOs => Dirs {
                os,
                home: "/Users/al".into(),
                config: "/Users/al/Library/Application Support".into(),
            },
            Os::Windows => Dirs {
                os,
                home: r"C:\Users\al".into(),
                config: r"C:\Users\al\AppData\Roaming".into(),
            },
        }
    }

    #[test]
    fn every_client_has_its_platform_location() {
        let cases = [
            (
                Os::Linux,
                Client::ClaudeDesktop,
                "/home/al/.config/Claude/claude_desktop_config.json",
            ),
            (
                Os::MacOs,
                Client::ClaudeDesktop,
                "/Users/al/Library/Application Support/Claude/claude_desktop_config.json",
            ),
            (
                Os::Linux,
                Client::VsCode,
                "/home/al/.config/Code/User/mcp.json",
            ),
            (
                Os::MacOs,
                Client::VsCode,
                "/Users/al/Library/Application Support/Code/User/mcp.json",
            ),
            (Os::Linux, Client::ClaudeCode, "/home/al/.claude.json"),
            (Os::MacOs, Client::Cursor, "/Users/al/.cursor/mcp.json"),
        ];
        for (os, client, want) in cases {
            assert_eq!(
                client.config_path(&dirs(os)),
                PathBuf::from(want),
                "{os:?} {client:?}"
            );
        }
        // Windows paths are built with the host's separator; compare the components.
        let windows = dirs(Os::Windows);
        let desktop = Client::ClaudeDesktop.config_path(&windows);
        assert!(desktop.starts_with(r"C:\Users\al\AppData\Roaming"));
        assert!(desktop.ends_with("Claude/claude_desktop_config.json"));
        assert!(
            Client::VsCode
                .config_path(&windows)
                .ends_with("Code/User/mcp.json")
        );
        assert!(
            Client::Cursor
                .config_path(&windows)
                .ends_with(".cursor/mcp.json")
        );
        for name in Client::NAMES {
            assert_eq!(Client::from_name(name).unwrap().name(), name);
        }
    }

    #[test]
    fn entries_have_each_clients_shape() {
        let launch = Launch::new("/opt/bin/mem0-mcp")
            .var("MEM0_USER_ID", "al")
            .var("MEM0_TOKEN_FILE", "/home/al/.config/mem0/token");
        let desktop = Client::ClaudeDesktop.snippet("mem0", &launch);
        assert_eq!(
            desktop,
            json!({"mcpServers": {"mem0": {"command": "/opt/bin/mem0-mcp", "env": {
                "MEM0_USER_ID": "al", "MEM0_TOKEN_FILE": "/home/al/.config/mem0/token"}}}})
        );
        let vscode = Client::VsCode.snippet("mem0", &launch);
        assert_eq!(vscode["servers"]["mem0"]["type"], "stdio");
        assert_eq!(
            vscode["servers"]["mem0"]["env"]["PROJECT_DIR"],
            "${workspaceFolder}"
        );
        let cursor = Client::Cursor.entry(&launch);
        assert_eq!(cursor["env"]["PROJECT_DIR"], "${workspaceFolder}");
        let code = Client::ClaudeCode.entry(&launch);
        assert_eq!(code["type"], "stdio");
        assert_eq!(code["args"], json!([]));
        // An explicit project setting is left alone.
        let manual = launch
            .clone()
            .var("PROJECT_ID_MODE", "manual")
            .var("PROJECT_ID", "x");
        assert!(
            Client::VsCode.entry(&manual)["env"]
                .get("PROJECT_DIR")
                .is_none()
        );
    }

    #[test]
    fn the_claude_code_command_quotes_everything() {
        let launch = Launch::new("/opt/my bin/mem0-mcp").var("MEM0_USER_ID", "o'brien");
        assert_eq!(
            claude_add_command("mem0", &launch),
            r"claude mcp add mem0 -e MEM0_USER_ID='o'\''brien' --scope user -- '/opt/my bin/mem0-mcp'"
        );
    }
}
