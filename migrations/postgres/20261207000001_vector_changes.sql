-- A per-scope counter of vector writes beside the memory counters: every vector stored,
-- replaced or deleted adds one (a TRUNCATE of memory_vectors adds one to every scope). A server
-- that keeps a scope's vectors in memory compares it with what it loaded before each semantic
-- search, one primary-key read, so a vector written by any process (`reindex`, another server,
-- an administrator) is seen by the next search, whatever the scope's size.
ALTER TABLE memory_scope_counts ADD COLUMN vector_changes bigint NOT NULL DEFAULT 0;

CREATE FUNCTION memory_scope_counts_vectors_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_scope_counts AS c (scope_user, project_id, memories, vector_changes)
    SELECT scope_user, project_id, 0, count(*) FROM changed_rows
    GROUP BY scope_user, project_id ORDER BY scope_user, project_id
    ON CONFLICT (scope_user, project_id) DO UPDATE
        SET vector_changes = c.vector_changes + EXCLUDED.vector_changes;
    RETURN NULL;
END
$$;

-- One trigger per event: PostgreSQL allows a transition table on single-event triggers only.
CREATE TRIGGER memory_vectors_inserted AFTER INSERT ON memory_vectors
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_vectors_changed();
CREATE TRIGGER memory_vectors_updated AFTER UPDATE ON memory_vectors
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_vectors_changed();
CREATE TRIGGER memory_vectors_deleted AFTER DELETE ON memory_vectors
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_vectors_changed();

CREATE FUNCTION memory_scope_counts_vectors_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_scope_counts SET vector_changes = vector_changes + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER memory_vectors_truncated AFTER TRUNCATE ON memory_vectors
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_vectors_truncated();
