-- Tokens and the authentication audit log. A token is never stored: token_hash is the SHA-256
-- (hex) of the whole token, token_prefix its first 12 characters (the display id).
CREATE TABLE mcp_auth_tokens (
    id           bigserial   PRIMARY KEY,
    token_hash   text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    token_prefix text        NOT NULL,
    user_id      text        NOT NULL,
    name         text,
    email        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    is_enabled   boolean     NOT NULL DEFAULT true,
    last_used_at timestamptz,
    created_by   text,
    permissions  jsonb       NOT NULL DEFAULT '["read", "write"]'::jsonb
);

CREATE INDEX mcp_auth_tokens_user ON mcp_auth_tokens (user_id);
CREATE INDEX mcp_auth_tokens_prefix ON mcp_auth_tokens (token_prefix);

-- event_type: success, auth_failed, token_created, token_revoked, token_enabled,
-- token_deleted, token_minted, bulk_delete. token_prefix is a display id, never a token.
CREATE TABLE mcp_auth_audit_log (
    id            bigserial   PRIMARY KEY,
    "timestamp"   timestamptz NOT NULL DEFAULT now(),
    user_id       text,
    event_type    text        NOT NULL,
    token_prefix  text,
    error_message text
);

CREATE INDEX mcp_auth_audit_log_time ON mcp_auth_audit_log ("timestamp" DESC);
CREATE INDEX mcp_auth_audit_log_user ON mcp_auth_audit_log (user_id, "timestamp" DESC);
