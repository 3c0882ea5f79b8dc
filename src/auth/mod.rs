//! Authentication: who a session acts for and what it may do. A token is `mcp_` plus 43 random
//! characters; only its SHA-256 is stored ([`token`]). `serve` checks `MEM0_TOKEN` and
//! `MEM0_USER_ID` against the token tables before it serves anything ([`validate`]) and decides
//! who the session acts for ([`acting`]: on the embedded database, without a token, its owner),
//! keeps re-checking the token while it runs ([`revocation`]), and accepts short-lived JWTs
//! minted from a token ([`jwt`]). A token's life (issue, revoke, enable, delete, mint) and its
//! audit rows are in [`tokens`]. Permissions are `read`, `write` and `admin`
//! ([`crate::access`]); the audit log records every attempt, every token change and every bulk
//! delete ([`audit`]).

pub mod acting;
pub mod audit;
pub mod jwt;
pub mod request;
pub mod revocation;
pub mod token;
pub mod tokens;
pub mod validate;

pub use audit::AuditLog;
pub use revocation::{Session, SessionGuard};
pub use token::{Token, TokenFormatError};
pub use validate::{AuthError, Authenticated, Credentials, Purpose, authenticate, verify};
