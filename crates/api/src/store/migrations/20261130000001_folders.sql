-- Storage folders: directories owned by a user (on disk under
-- <data dir>/folders/<owner id>/<folder id>), mounted into sessions.
CREATE TABLE folders (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX folders_owner_name ON folders(owner_id, name);

-- What each session mounted. folder_id is not a foreign key on purpose: a
-- finished session keeps the record of its mounts after the folder is gone.
CREATE TABLE session_mounts (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    folder_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    read_only  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, folder_id)
);
CREATE INDEX session_mounts_folder ON session_mounts(folder_id);

ALTER TABLE resource_policies ADD COLUMN max_folders BIGINT NOT NULL DEFAULT 10;
