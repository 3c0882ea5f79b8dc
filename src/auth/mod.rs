//! Authentication: who a session acts for ([`acting`]) and what it may do. A token is `mcp_` plus 43 random
//! characters; only its SHA-256 is stored ([`token`]). `serve` checks `MEM0_TOKEN` and
//! `MEM0_USER_ID` against the token tables before it serves anything ([`validate`]), keeps
//! re-checking the token while it runs ([`revocation`]), and accepts short-lived JWTs minted
//! from a token ([`jwt`]). Permissions are `read`, `write` and `admin` ([`crate::access`]); the
//! audit log records every attempt, every token change and every bulk delete ([`audit`]).

pub mod acting;
pub mod audit;
pub mod jwt;
pub mod revocation;
pub mod token;
pub mod validate;

pub use audit::AuditLog;
pub use revocation::{Session, SessionGuard};
pub use token::{Token, TokenFormatError};
pub use validate::{AuthError, Authenticated, Credentials, Purpose, authenticate, verify};
