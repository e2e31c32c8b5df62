-- A resource group's own scheduling strategy (`dispersed`, `concentrated`);
-- NULL = the server's default.
ALTER TABLE resource_groups ADD COLUMN strategy TEXT;
