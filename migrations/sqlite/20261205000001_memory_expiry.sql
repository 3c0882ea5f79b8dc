-- Mirrors the PostgreSQL migration. expires_at is fixed-width UTC text like the other times
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ), NULL for a memory that never expires.
ALTER TABLE memories ADD COLUMN expires_at TEXT;

CREATE INDEX memories_scope_expiry ON memories (scope_user, project_id, expires_at)
    WHERE expires_at IS NOT NULL;
