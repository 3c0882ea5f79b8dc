-- Mirrors the PostgreSQL schema: tokens (stored as their SHA-256, never in plain text) and the
-- authentication audit log. Timestamps are fixed-width UTC text; permissions a JSON array.
CREATE TABLE mcp_auth_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    token_prefix TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    name         TEXT,
    email        TEXT,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT,
    is_enabled   INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
    last_used_at TEXT,
    created_by   TEXT,
    permissions  TEXT    NOT NULL DEFAULT '["read","write"]'
);

CREATE INDEX mcp_auth_tokens_user ON mcp_auth_tokens (user_id);
CREATE INDEX mcp_auth_tokens_prefix ON mcp_auth_tokens (token_prefix);

CREATE TABLE mcp_auth_audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp     TEXT    NOT NULL,
    user_id       TEXT,
    event_type    TEXT    NOT NULL,
    token_prefix  TEXT,
    error_message TEXT
);

CREATE INDEX mcp_auth_audit_log_time ON mcp_auth_audit_log (timestamp DESC);
CREATE INDEX mcp_auth_audit_log_user ON mcp_auth_audit_log (user_id, timestamp DESC);
