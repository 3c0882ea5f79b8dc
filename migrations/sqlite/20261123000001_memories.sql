-- Mirrors the PostgreSQL schema. Timestamps are fixed-width UTC text
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ) so that text order is time order.
-- seq is the stable integer key the full-text index points at (implicit rowids can be
-- renumbered by VACUUM).
CREATE TABLE memories (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    user_id       TEXT    NOT NULL,
    scope_user    TEXT    NOT NULL,
    project_id    TEXT    NOT NULL,
    content       TEXT    NOT NULL,
    content_hash  TEXT    NOT NULL,
    tags          TEXT    NOT NULL DEFAULT '[]',
    metadata      TEXT    NOT NULL DEFAULT '{}',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

CREATE INDEX memories_scope_recent ON memories (scope_user, project_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX memories_scope_content ON memories (scope_user, project_id, content_hash);

CREATE VIRTUAL TABLE memories_fts USING fts5(
    content,
    content = 'memories',
    content_rowid = 'seq',
    tokenize = 'porter unicode61'
);

CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, content) VALUES (new.seq, new.content);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    INSERT INTO memories_fts (rowid, content) VALUES (new.seq, new.content);
END;

CREATE TABLE memory_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    scope_user  TEXT    NOT NULL,
    project_id  TEXT    NOT NULL,
    event       TEXT    NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    content     TEXT    NOT NULL,
    tags        TEXT    NOT NULL DEFAULT '[]',
    metadata    TEXT    NOT NULL DEFAULT '{}',
    actor_token TEXT,
    at          TEXT    NOT NULL
);

CREATE INDEX memory_history_memory ON memory_history (memory_id, id);
