-- Where an agent's host sees the folder storage (the server's storage
-- root, shared): NULL when it does not, and sessions that mount folders
-- are not placed there.
ALTER TABLE agents ADD COLUMN storage_path TEXT;
