//! mem0-mcp: a memory server for AI coding assistants. MCP clients launch it over stdio; it
//! keeps what the assistant should remember in PostgreSQL or an embedded SQLite file, scoped per
//! user and per project.
//!
//! Data flows one way: [`mcp`] (tool handlers) → [`memory`] (scope, limits, dedup, history) →
//! [`store`] (SQL). [`settings`] are resolved once at startup and passed down as values;
//! [`project`] derives the project of a directory; [`auth`] decides who a session acts for,
//! as an [`access::Principal`] with its permissions.
//! [`clients`] knows where MCP clients keep their configuration; [`files`] writes files safely.
#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod cli;
pub mod clients;
pub mod embedding;
pub mod files;
pub mod identifier;
pub mod mcp;
pub mod memory;
pub mod problem;
pub mod project;
pub mod service;
pub mod settings;
pub mod store;
