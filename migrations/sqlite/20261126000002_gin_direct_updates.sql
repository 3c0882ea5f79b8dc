-- Kept in step with PostgreSQL's migration of the same name, which changes how its GIN indexes
-- take new entries. SQLite has no GIN index; its full-text index merges its segments itself.
SELECT 1;
