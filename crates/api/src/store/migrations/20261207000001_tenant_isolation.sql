-- Step 12, tenants kept apart.
-- A personal token may end on its own (epoch ms; NULL: until revoked).
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
-- Bytes one user's storage folders may hold together (0 = no limit).
ALTER TABLE resource_policies ADD COLUMN max_folder_bytes BIGINT NOT NULL DEFAULT 0;
-- Each session's service secret: Jupyter's token, added upstream by the
-- proxy; never shown by the API.
ALTER TABLE sessions ADD COLUMN service_secret TEXT;
