-- Mirrors PostgreSQL: a random, opaque public id per token, what a minted token names its parent
-- by. New rows get theirs from the application (SQLite cannot default a new column to a random
-- value); existing rows get one here.
ALTER TABLE mcp_auth_tokens ADD COLUMN public_id TEXT;

UPDATE mcp_auth_tokens SET public_id = lower(hex(randomblob(16))) WHERE public_id IS NULL;

CREATE UNIQUE INDEX mcp_auth_tokens_public_id ON mcp_auth_tokens (public_id);
