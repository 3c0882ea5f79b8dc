-- Memories and their history. Every query that reads or writes memories filters on
-- (scope_user, project_id): scope_user is the owner of a private scope, or '' for the shared
-- global pool; user_id is always the author.
CREATE TABLE memories (
    id            uuid        PRIMARY KEY,
    user_id       text        NOT NULL,
    scope_user    text        NOT NULL,
    project_id    text        NOT NULL,
    content       text        NOT NULL,
    content_hash  text        NOT NULL,
    tags          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    metadata      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    search_vector tsvector    GENERATED ALWAYS AS (to_tsvector('english', content)) STORED
);

-- Newest-first listing and keyset pagination within one scope.
CREATE INDEX memories_scope_recent ON memories (scope_user, project_id, created_at DESC, id DESC);
-- Content dedup: one row per content within a scope, even with concurrent writers.
CREATE UNIQUE INDEX memories_scope_content ON memories (scope_user, project_id, content_hash);
CREATE INDEX memories_search ON memories USING gin (search_vector);
CREATE INDEX memories_tags ON memories USING gin (tags jsonb_path_ops);

CREATE TABLE memory_history (
    id          bigserial   PRIMARY KEY,
    memory_id   uuid        NOT NULL,
    user_id     text        NOT NULL,
    scope_user  text        NOT NULL,
    project_id  text        NOT NULL,
    event       text        NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    content     text        NOT NULL,
    tags        jsonb       NOT NULL DEFAULT '[]'::jsonb,
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    actor_token text,
    at          timestamptz NOT NULL
);

CREATE INDEX memory_history_memory ON memory_history (memory_id, id);
