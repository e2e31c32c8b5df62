-- Where an agent's host sees the folder storage (the server's storage
-- root, shared): NULL when it does not, and sessions that mount folders
-- are not placed there.
ALTER TABLE agents ADD COLUMN storage_path TEXT;
-- The host ports (`first-last`) a remote agent's kernels publish their
-- apps and SSH on; NULL: the server's default range.
ALTER TABLE agents ADD COLUMN port_range TEXT;
