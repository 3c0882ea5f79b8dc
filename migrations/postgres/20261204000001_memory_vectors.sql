-- One embedding vector per memory, for semantic search. `vector` is little-endian f32 (compared
-- in the server: pgvector is not assumed), `model` names the model that made it (a memory
-- embedded by another model is not compared with the current one), `content_hash` the content
-- it was made from. seq grows with every write, so a scope's (count, max(seq)) changes whenever
-- its vectors do: the server's cache key.
--
-- No foreign key to memories: one would forbid `TRUNCATE memories`, which administrators and
-- bulk loads use. Triggers delete a memory's vector with it instead (and the server stores a
-- vector only for a memory that exists with the content it was made from).
CREATE TABLE memory_vectors (
    memory_id    uuid   PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    scope_user   text   NOT NULL,
    project_id   text   NOT NULL,
    model        text   NOT NULL,
    content_hash text   NOT NULL,
    vector       bytea  NOT NULL
);

CREATE INDEX memory_vectors_scope ON memory_vectors (scope_user, project_id, model, seq);

-- A vector describes the content it was made from: new content drops it (the server embeds
-- the new content in its place).
CREATE FUNCTION memory_vectors_content_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_vectors WHERE memory_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER memory_vectors_content_changed AFTER UPDATE OF content ON memories
    FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content)
    EXECUTE FUNCTION memory_vectors_content_changed();

CREATE FUNCTION memory_vectors_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_vectors v USING deleted_rows d WHERE v.memory_id = d.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION memory_vectors_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_vectors;
    RETURN NULL;
END
$$;

CREATE TRIGGER memory_vectors_delete AFTER DELETE ON memories
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_vectors_after_delete();
CREATE TRIGGER memory_vectors_truncate AFTER TRUNCATE ON memories
    FOR EACH STATEMENT EXECUTE FUNCTION memory_vectors_after_truncate();
