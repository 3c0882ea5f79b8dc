-- One embedding vector per memory, for semantic search (mirrors PostgreSQL's migration of the
-- same name). `vector` is little-endian f32, `model` names the model that made it (a memory
-- embedded by another model is not compared with the current one), `content_hash` the content
-- it was made from. seq grows with every write (AUTOINCREMENT never reuses a value), so a
-- scope's (count, max(seq)) changes whenever its vectors do: the server's cache key.
CREATE TABLE memory_vectors (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id    TEXT    NOT NULL UNIQUE REFERENCES memories (id) ON DELETE CASCADE,
    scope_user   TEXT    NOT NULL,
    project_id   TEXT    NOT NULL,
    model        TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    vector       BLOB    NOT NULL
);

CREATE INDEX memory_vectors_scope ON memory_vectors (scope_user, project_id, model, seq);

-- A vector describes the content it was made from: new content drops it (the server embeds
-- the new content in its place).
CREATE TRIGGER memory_vectors_content_changed AFTER UPDATE OF content ON memories
WHEN old.content IS NOT new.content BEGIN
    DELETE FROM memory_vectors WHERE memory_id = new.id;
END;
