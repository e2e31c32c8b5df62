-- The language a user chose for the UI (`en`, `ko`); NULL = the browser's.
ALTER TABLE users ADD COLUMN locale TEXT;
