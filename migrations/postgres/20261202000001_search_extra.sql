-- Words the english parser does not see by itself, computed by the server from the content
-- (src/memory/search_text.rs): diacritic-free spellings (zurich for Zürich), overlapping pairs
-- of characters for scripts written without spaces (東京 inside 部署は東京), and symbols as
-- words (sym1f680 for 🚀). Rows written before this migration have none and are found by their
-- content as before.
ALTER TABLE memories ADD COLUMN search_extra text NOT NULL DEFAULT '';
ALTER TABLE memories DROP COLUMN search_vector;
ALTER TABLE memories ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('english', content || ' ' || search_extra)) STORED;
CREATE INDEX memories_scope_search ON memories USING gin (scope_user, project_id, search_vector)
    WITH (fastupdate = off);
ANALYZE memories;
