-- How many memories each scope holds, kept by triggers so that every writer (the server, bulk
-- loads, an administrator's DELETE) keeps it exact. Adding a memory checks the per-scope limit
-- against this row instead of counting the scope, which grew with the scope (about 2 ms at
-- 10,000 memories); listings read their unfiltered total from it too.
CREATE TABLE memory_scope_counts (
    scope_user text   NOT NULL,
    project_id text   NOT NULL,
    memories   bigint NOT NULL CHECK (memories >= 0),
    PRIMARY KEY (scope_user, project_id)
);

-- Statement-level triggers see all the rows a statement touched at once, so a bulk insert or
-- delete updates each scope's row once. Scopes are visited in key order so that two
-- statements touching the same scopes lock their rows in the same order.
CREATE FUNCTION memory_scope_counts_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_scope_counts AS c (scope_user, project_id, memories)
    SELECT scope_user, project_id, count(*) FROM inserted_rows
    GROUP BY scope_user, project_id ORDER BY scope_user, project_id
    ON CONFLICT (scope_user, project_id) DO UPDATE SET memories = c.memories + EXCLUDED.memories;
    RETURN NULL;
END
$$;

CREATE FUNCTION memory_scope_counts_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_scope_counts AS c SET memories = c.memories - d.removed
    FROM (SELECT scope_user, project_id, count(*) AS removed FROM deleted_rows
          GROUP BY scope_user, project_id ORDER BY scope_user, project_id) AS d
    WHERE c.scope_user = d.scope_user AND c.project_id = d.project_id;
    RETURN NULL;
END
$$;

-- Memories do not move between scopes, but a row edited by hand might.
CREATE FUNCTION memory_scope_counts_after_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_scope_counts SET memories = memories - 1
    WHERE scope_user = OLD.scope_user AND project_id = OLD.project_id;
    INSERT INTO memory_scope_counts AS c (scope_user, project_id, memories)
    VALUES (NEW.scope_user, NEW.project_id, 1)
    ON CONFLICT (scope_user, project_id) DO UPDATE SET memories = c.memories + 1;
    RETURN NULL;
END
$$;

CREATE FUNCTION memory_scope_counts_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_scope_counts;
    RETURN NULL;
END
$$;

-- The triggers exist before the counts are taken: creating them locks out writers until this
-- migration commits, so no memory is added or removed between the count and the first trigger.
CREATE TRIGGER memory_scope_counts_insert AFTER INSERT ON memories
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_after_insert();
CREATE TRIGGER memory_scope_counts_delete AFTER DELETE ON memories
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_after_delete();
CREATE TRIGGER memory_scope_counts_move AFTER UPDATE OF scope_user, project_id ON memories
    FOR EACH ROW
    WHEN (OLD.scope_user IS DISTINCT FROM NEW.scope_user OR OLD.project_id IS DISTINCT FROM NEW.project_id)
    EXECUTE FUNCTION memory_scope_counts_after_move();
CREATE TRIGGER memory_scope_counts_truncate AFTER TRUNCATE ON memories
    FOR EACH STATEMENT EXECUTE FUNCTION memory_scope_counts_after_truncate();

INSERT INTO memory_scope_counts (scope_user, project_id, memories)
SELECT scope_user, project_id, count(*) FROM memories GROUP BY scope_user, project_id;
