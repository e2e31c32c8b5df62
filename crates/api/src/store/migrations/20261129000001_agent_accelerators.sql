-- Accelerators an agent declares and what sessions hold of them, one row per
-- slot, so placing a session takes them in the same guarded transaction as
-- its CPU and memory (they used to be a JSON column, recomputed from the
-- sessions at every scheduling round).
CREATE TABLE agent_accelerators (
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    slot     TEXT NOT NULL,
    total    DOUBLE PRECISION NOT NULL,
    used     DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, slot)
);
-- The declared totals are written again from the configuration at every
-- start, and what is held is recomputed from the sessions' allocations then.
ALTER TABLE agents DROP COLUMN accel_total;
