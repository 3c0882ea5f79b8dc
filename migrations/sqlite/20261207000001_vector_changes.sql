-- A per-scope counter of vector writes beside the memory counters: every vector stored,
-- replaced or deleted adds one. Mirrors PostgreSQL's migration of the same name: a server that
-- keeps a scope's vectors in memory compares it with what it loaded before each semantic
-- search, one primary-key read, so a vector written by any process is seen by the next search.
ALTER TABLE memory_scope_counts ADD COLUMN vector_changes INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER memory_vectors_inserted AFTER INSERT ON memory_vectors BEGIN
    INSERT INTO memory_scope_counts (scope_user, project_id, memories, vector_changes)
    VALUES (new.scope_user, new.project_id, 0, 1)
    ON CONFLICT (scope_user, project_id) DO UPDATE SET vector_changes = vector_changes + 1;
END;
CREATE TRIGGER memory_vectors_updated AFTER UPDATE ON memory_vectors BEGIN
    INSERT INTO memory_scope_counts (scope_user, project_id, memories, vector_changes)
    VALUES (new.scope_user, new.project_id, 0, 1)
    ON CONFLICT (scope_user, project_id) DO UPDATE SET vector_changes = vector_changes + 1;
END;
CREATE TRIGGER memory_vectors_deleted AFTER DELETE ON memory_vectors BEGIN
    UPDATE memory_scope_counts SET vector_changes = vector_changes + 1
    WHERE scope_user = old.scope_user AND project_id = old.project_id;
END;
