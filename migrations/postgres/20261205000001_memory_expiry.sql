-- Memories may carry an expiry time. An expired memory is never returned (every read filters
-- on it) and is purged with a DELETE history event, so its history keeps the record.
ALTER TABLE memories ADD COLUMN expires_at timestamptz;

-- Finds a scope's expired memories (and those expiring soon) without reading the scope; only
-- rows that expire are in it.
CREATE INDEX memories_scope_expiry ON memories (scope_user, project_id, expires_at)
    WHERE expires_at IS NOT NULL;
