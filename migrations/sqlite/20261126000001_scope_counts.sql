-- How many memories each scope holds, kept by triggers so that every writer keeps it exact.
-- Mirrors PostgreSQL's migration of the same name: adding a memory checks the per-scope limit
-- against this row instead of counting the scope, and listings read their unfiltered total
-- from it.
CREATE TABLE memory_scope_counts (
    scope_user TEXT    NOT NULL,
    project_id TEXT    NOT NULL,
    memories   INTEGER NOT NULL CHECK (memories >= 0),
    PRIMARY KEY (scope_user, project_id)
) WITHOUT ROWID;

CREATE TRIGGER memory_scope_counts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memory_scope_counts (scope_user, project_id, memories)
    VALUES (new.scope_user, new.project_id, 1)
    ON CONFLICT (scope_user, project_id) DO UPDATE SET memories = memories + 1;
END;
CREATE TRIGGER memory_scope_counts_delete AFTER DELETE ON memories BEGIN
    UPDATE memory_scope_counts SET memories = memories - 1
    WHERE scope_user = old.scope_user AND project_id = old.project_id;
END;
-- Memories do not move between scopes, but a row edited by hand might.
CREATE TRIGGER memory_scope_counts_move AFTER UPDATE OF scope_user, project_id ON memories
WHEN old.scope_user IS NOT new.scope_user OR old.project_id IS NOT new.project_id BEGIN
    UPDATE memory_scope_counts SET memories = memories - 1
    WHERE scope_user = old.scope_user AND project_id = old.project_id;
    INSERT INTO memory_scope_counts (scope_user, project_id, memories)
    VALUES (new.scope_user, new.project_id, 1)
    ON CONFLICT (scope_user, project_id) DO UPDATE SET memories = memories + 1;
END;

INSERT INTO memory_scope_counts (scope_user, project_id, memories)
SELECT scope_user, project_id, count(*) FROM memories GROUP BY scope_user, project_id;
