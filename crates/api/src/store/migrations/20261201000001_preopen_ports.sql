-- Ports inside the container a session asked to have reachable through the
-- app proxy from the start (JSON array of numbers).
ALTER TABLE sessions ADD COLUMN preopen_ports TEXT NOT NULL DEFAULT '[]';
