-- A public id for each token: random, opaque, what a minted token names its parent by (a row id
-- is a small guessable integer). Existing rows get one each.
ALTER TABLE mcp_auth_tokens
    ADD COLUMN public_id text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');

CREATE UNIQUE INDEX mcp_auth_tokens_public_id ON mcp_auth_tokens (public_id);
