-- Launcher history: each user's recent launch configurations.
CREATE TABLE launcher_history (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    pinned     INTEGER NOT NULL DEFAULT 0,
    config     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX launcher_history_user ON launcher_history(user_id, created_at);
