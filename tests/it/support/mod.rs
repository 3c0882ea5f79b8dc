//! The one harness every integration test uses (ripgrep's `tests/util.rs` in several files):
//!
//! - [`binary`]: the binary under test ([`BIN`]), the [`Sandbox`] every process runs in (a
//!   clean environment, a private HOME), running a command to its end within a time limit;
//! - [`db`]: [`TestDb`], the database one test uses on either [`Backend`], and servers on it;
//! - [`pg`]: the machine's PostgreSQL as an administrator, and the one throw-away database type
//!   [`PgDatabase`];
//! - [`mcp`]: the MCP client over the real binary, and the raw JSON-RPC line client;
//! - [`http`]: the team server (`serve --http`) and a JSON-RPC over HTTP client;
//! - [`cluster`]: a private PostgreSQL cluster (TLS, peer / cert / scram / trust) and
//!   PgBouncer, shared by the tests that need it;
//! - [`model`]: the embedding model of the semantic-search tests, built once and cached;
//! - [`schema`]: the JSON Schema check of tool results; [`secrets`]: looking for leaked
//!   secrets; [`system`]: programs, ports and root;
//! - `macros`: [`on_both_backends!`], one test per backend for a scenario.

#[macro_use]
mod macros;
pub mod binary;
pub mod cluster;
pub mod db;
pub mod http;
pub mod mcp;
pub mod model;
pub mod pg;
pub mod schema;
pub mod secrets;
pub mod system;

pub use binary::{BIN, Finished, Sandbox};
pub use db::{Backend, TestDb};
pub use mcp::{McpClient, RawProcess};
pub use pg::PgDatabase;
