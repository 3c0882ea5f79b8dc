-- A per-scope change counter beside the count: every inserted, updated or deleted memory adds
-- one. A server that keeps a scope's search index in memory compares (memories, changes) with
-- what it indexed before each search, one primary-key read, so a write by any process (another
-- server, an import, an administrator's UPDATE) is seen by the next search.
ALTER TABLE memory_scope_counts ADD COLUMN changes bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION memory_scope_counts_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_scope_counts AS c (scope_user, project_id, memories, changes)
    SELECT scope_user, project_id, count(*), count(*) FROM inserted_rows
    GROUP BY scope_user, project_id ORDER BY scope_user, project_id
    ON CONFLICT (scope_user, project_id) DO UPDATE
        SET memories = c.memories + EXCLUDED.memories, changes = c.changes + EXCLUDED.changes;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION memory_scope_counts_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_scope_counts AS c
    SET memories = c.memories - d.removed, changes = c.changes + d.removed
    FROM (SELECT scope_user, project_id, count(*) AS removed FROM deleted_rows
          GROUP BY scope_user, project_id ORDER BY scope_user, project_id) AS d
    WHERE c.scope_user = d.scope_user AND c.project_id = d.project_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION memory_scope_counts_after_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_scope_counts SET memories = memories - 1, changes = changes + 1
    WHERE scope_user = OLD.scope_user AND project_id = OLD.project_id;
    INSERT INTO memory_scope_counts AS c (scope_user, project_id, memories, changes)
    VALUES (NEW.scope_user, NEW.project_id, 1, 1)
    ON CONFLICT (scope_user, project_id) DO UPDATE
        SET memories = c.memories + 1, changes = c.changes + 1;
    RETURN NULL;
END
$$;

-- Edits in place (content, tags, expiry, metadata): statement-level like the others, so a bulk
-- UPDATE touches each scope's row once.
CREATE FUNCTION memory_scope_counts_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_scope_counts AS c SET changes = c.changes + u.edited
    FROM (SELECT scope_user, project_id, count(*) AS edited FROM updated_rows
          GROUP BY scope_user, project_id ORDER BY scope_user, project_id) AS u
    WHERE c.scope_user = u.scope_user AND c.project_id = u.project_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER memory_scope_counts_update AFTER UPDATE ON memories
    REFERENCING NEW TABLE AS updated_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_after_update();

-- TRUNCATE empties every scope but keeps its row, so the counter never goes back to a value
-- an index was built at.
CREATE OR REPLACE FUNCTION memory_scope_counts_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_scope_counts SET memories = 0, changes = changes + 1;
    RETURN NULL;
END
$$;
