//! Helpers shared by `tests/connections.rs`, `tests/keychain.rs` and
//! `tests/secrets_never_leak.rs` (the other integration tests use `tests/common/`):
//!
//! - [`process`]: runs the real `mem0-mcp` binary in a clean sandbox (no inherited `MEM0_*`,
//!   a temporary `HOME`, working directory and data directory, no D-Bus session) with a time
//!   limit on every child, and collects its exit code, stdout and stderr.
//! - [`cluster`]: a throw-away PostgreSQL cluster started by the test binary itself (TLS with
//!   generated certificates, peer / cert / scram / trust authentication), and PgBouncer in
//!   front of it.
//! - [`mcp`]: an MCP round trip (`add_memory` then `search_memories`) through the real server.
//!
//! Missing prerequisites (PostgreSQL server binaries, openssl, pgbouncer, gnome-keyring,
//! dbus-run-session) make the tests FAIL with a message naming `.ci/install-test-deps.sh`;
//! nothing is skipped.

#![allow(dead_code)]

pub mod cluster;
pub mod mcp;
pub mod process;
