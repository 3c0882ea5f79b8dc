-- A per-scope change counter beside the count: every inserted, updated or deleted memory adds
-- one. Mirrors PostgreSQL's migration of the same name: a server that keeps a scope's search
-- index in memory compares (memories, changes) with what it indexed before each search, so a
-- write by any process is seen by the next search.
ALTER TABLE memory_scope_counts ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER memory_scope_counts_insert;
DROP TRIGGER memory_scope_counts_delete;
DROP TRIGGER memory_scope_counts_move;

CREATE TRIGGER memory_scope_counts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memory_scope_counts (scope_user, project_id, memories, changes)
    VALUES (new.scope_user, new.project_id, 1, 1)
    ON CONFLICT (scope_user, project_id) DO UPDATE
        SET memories = memories + 1, changes = changes + 1;
END;
CREATE TRIGGER memory_scope_counts_delete AFTER DELETE ON memories BEGIN
    UPDATE memory_scope_counts SET memories = memories - 1, changes = changes + 1
    WHERE scope_user = old.scope_user AND project_id = old.project_id;
END;
-- Every edit counts as a change; one that moves a memory between scopes (by hand) also moves
-- it between the counts.
CREATE TRIGGER memory_scope_counts_update AFTER UPDATE ON memories BEGIN
    UPDATE memory_scope_counts SET memories = memories - 1, changes = changes + 1
    WHERE scope_user = old.scope_user AND project_id = old.project_id
      AND (old.scope_user IS NOT new.scope_user OR old.project_id IS NOT new.project_id);
    INSERT INTO memory_scope_counts (scope_user, project_id, memories, changes)
    VALUES (new.scope_user, new.project_id,
            CASE WHEN old.scope_user IS NOT new.scope_user OR old.project_id IS NOT new.project_id THEN 1 ELSE 0 END,
            1)
    ON CONFLICT (scope_user, project_id) DO UPDATE
        SET memories = memories + excluded.memories, changes = changes + 1;
END;
