//! The integration tests: ONE test crate (ripgrep's `tests/tests.rs`), so the dependency tree
//! is linked once and the tests share one harness, `support`, and, where they need it, one
//! private PostgreSQL cluster. Run all of them with `bash scripts/test.sh`, one module with
//! `cargo test --test it behaviour::`, one test with its full name.
//!
//! Every test drives the REAL thing: the `mem0-mcp` binary over stdio (or the library's store
//! in process, `store_contract`), the machine's PostgreSQL (127.0.0.1:5432, a throw-away
//! database per test) and SQLite, and where a test says so a private PostgreSQL cluster,
//! PgBouncer, or a Secret Service under `dbus-run-session`. Tests run on parallel threads:
//! nothing here touches the process's environment or working directory, every test has its
//! own sandbox, databases and ports.

// The harness, and its macros (declared first so every module below can use them).
#[macro_use]
mod support;

// Authentication: tokens, permissions, minted JWTs, revocation, the audit log, leak scans.
mod auth;
// Every tool and scope rule on both backends, process lifecycle and exit codes.
mod behaviour;
// The team server (`serve --http`), its replicas, and the stdio bridge to it.
mod http;
// The command line outside an MCP session: exit codes and built-in texts.
mod cli;
// The database failing under a running server (a full disk).
mod faults;
// Every request answered: malformed, hostile and over-long lines over stdio.
mod framing;
// Every way of connecting to PostgreSQL, against the private cluster and PgBouncer.
mod connections;
// The OS keychain, against a real Secret Service in a private D-Bus session.
mod keychain;
// `auto` mode and the client's MCP roots.
mod roots;
// Expiry of memories, through every tool.
mod expiry;
// export and import, round trips on both backends.
mod portable;
// MCP resources and prompts.
mod resources;
// Known secrets given to every command; none may appear in any output.
mod secrets_never_leak;
// Semantic search with the builtin embedding model.
mod semantic;
// The builtin model's vectors against model2vec's own implementation.
mod builtin_model;
// Hostile working directories, forged minted tokens, foreign data directories, error text.
mod security;
// How search ranks: both backends alike, rare words first, fresh after writes elsewhere.
mod ranking;
// The plan of every search shape, on both backends (EXPLAIN).
mod search_plans;
// `init`, `client-config`, `doctor` and completions, each in a home of its own.
mod setup;
// The store traits in process: one story, both backends.
mod store_contract;
// Text beyond plain ASCII: Unicode normal forms.
mod unicode;
// The public tool surface: one snapshot per tool, annotations, hidden aliases.
mod tools_list;
