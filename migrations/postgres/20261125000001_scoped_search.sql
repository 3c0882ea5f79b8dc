-- Full-text search within one scope, fast however many rows other users have: one GIN index
-- over the scope columns and the text (btree_gin lets GIN index plain text columns), so a query
-- intersects "this scope" with "these words" inside the index. It replaces the text-only index.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX memories_scope_search ON memories USING gin (scope_user, project_id, search_vector);
DROP INDEX IF EXISTS memories_search;

-- scope_user and project_id are strongly correlated; without this the planner multiplies their
-- selectivities and believes every scope holds about one row.
CREATE STATISTICS IF NOT EXISTS memories_scope_stats (dependencies, ndistinct)
    ON scope_user, project_id FROM memories;
