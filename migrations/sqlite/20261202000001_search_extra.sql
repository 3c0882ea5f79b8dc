-- Mirrors PostgreSQL's migration of the same name: words the tokenizer does not see by itself,
-- computed by the server from the content (src/memory/search_text.rs), indexed beside it.
ALTER TABLE memories ADD COLUMN search_extra TEXT NOT NULL DEFAULT '';

DROP TRIGGER memories_fts_insert;
DROP TRIGGER memories_fts_delete;
DROP TRIGGER memories_fts_update;
DROP TABLE memories_fts;

CREATE VIRTUAL TABLE memories_fts USING fts5(
    content,
    search_extra,
    content = 'memories',
    content_rowid = 'seq',
    tokenize = 'porter unicode61'
);

CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, content, search_extra) VALUES (new.seq, new.content, new.search_extra);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, content, search_extra) VALUES ('delete', old.seq, old.content, old.search_extra);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, search_extra ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, content, search_extra) VALUES ('delete', old.seq, old.content, old.search_extra);
    INSERT INTO memories_fts (rowid, content, search_extra) VALUES (new.seq, new.content, new.search_extra);
END;

INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');
