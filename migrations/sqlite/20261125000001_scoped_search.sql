-- Kept in step with PostgreSQL's migration of the same name, which adds a scope-aware search
-- index there. SQLite's full-text index is already separate (memories_fts); refresh the
-- planner's statistics so it keeps choosing the scope index for listings.
ANALYZE;
