-- Sessions on agents: resource groups, agents, presets, policies, sessions,
-- kernels, status history. Same Any-compatible types as 0001.

CREATE TABLE resource_policies (
    name                    TEXT PRIMARY KEY,
    max_concurrent_sessions BIGINT NOT NULL DEFAULT 0,
    max_total_cpu           DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_total_mem           BIGINT NOT NULL DEFAULT 0,
    max_session_lifetime    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO resource_policies (name) VALUES ('default');

CREATE TABLE resource_groups (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
);
INSERT INTO resource_groups (name, description) VALUES ('default', 'The local agent');

-- Which projects may use which resource group.
CREATE TABLE resource_group_projects (
    resource_group TEXT NOT NULL REFERENCES resource_groups(name) ON DELETE CASCADE,
    project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    PRIMARY KEY (resource_group, project_id)
);
INSERT INTO resource_group_projects (resource_group, project_id)
VALUES ('default', '00000000-0000-0000-0000-000000000001');

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    resource_group TEXT NOT NULL REFERENCES resource_groups(name),
    docker_host    TEXT NOT NULL,
    status         TEXT NOT NULL,
    cpu_total      DOUBLE PRECISION NOT NULL,
    mem_total      BIGINT NOT NULL,
    cpu_used       DOUBLE PRECISION NOT NULL DEFAULT 0,
    mem_used       BIGINT NOT NULL DEFAULT 0,
    accel_total    TEXT NOT NULL DEFAULT '{}',
    updated_at     BIGINT NOT NULL
);

CREATE TABLE resource_presets (
    name         TEXT PRIMARY KEY,
    cpu          DOUBLE PRECISION NOT NULL,
    mem          BIGINT NOT NULL,
    shmem        BIGINT NOT NULL,
    accelerators TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO resource_presets (name, cpu, mem, shmem) VALUES ('small', 1, 1073741824, 67108864);
INSERT INTO resource_presets (name, cpu, mem, shmem) VALUES ('medium', 2, 4294967296, 268435456);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    owner_id          TEXT NOT NULL REFERENCES users(id),
    created_by        TEXT NOT NULL REFERENCES users(id),
    project_id        TEXT NOT NULL REFERENCES projects(id),
    access_key        TEXT NOT NULL,
    resource_group    TEXT NOT NULL,
    session_type      TEXT NOT NULL,
    image             TEXT NOT NULL,
    cpu               DOUBLE PRECISION NOT NULL,
    mem               BIGINT NOT NULL,
    shmem             BIGINT NOT NULL,
    accelerators      TEXT NOT NULL DEFAULT '{}',
    env               TEXT NOT NULL DEFAULT '{}',
    nthreads          BIGINT NOT NULL,
    startup_command   TEXT,
    starts_at         BIGINT,
    batch_timeout     BIGINT,
    designated_agent  TEXT,
    agent             TEXT,
    cluster_mode      TEXT NOT NULL DEFAULT 'single-node',
    cluster_size      BIGINT NOT NULL DEFAULT 1,
    status            TEXT NOT NULL,
    status_info       TEXT,
    status_data       TEXT,
    status_changed_at BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    started_at        BIGINT,
    terminated_at     BIGINT,
    -- 1 while the session holds resources on its agent
    allocated         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_owner ON sessions(owner_id, created_at);
-- names are unique among an owner's live sessions (finished ones have terminated_at)
CREATE UNIQUE INDEX sessions_live_name ON sessions(owner_id, name) WHERE terminated_at IS NULL;
CREATE INDEX sessions_status ON sessions(status, created_at);

CREATE TABLE kernels (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    hostname     TEXT NOT NULL,
    agent        TEXT,
    container_id TEXT,
    status       TEXT NOT NULL,
    exit_code    BIGINT,
    -- the container's last output, kept when the container is removed
    logs         TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX kernels_session ON kernels(session_id);

CREATE TABLE session_history (
    id          BIGINT NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    status_info TEXT,
    at          BIGINT NOT NULL,
    PRIMARY KEY (session_id, id)
);

-- Server-wide values, e.g. the instance id that labels our containers.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
