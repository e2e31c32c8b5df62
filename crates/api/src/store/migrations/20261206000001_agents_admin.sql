-- Agents registered by admins: drained (schedulable = 0: nothing new is
-- placed), TLS client certificates for tcp:// engines (a folder on the
-- server), capacity kept back from what the engine reports, and since when
-- an agent's engine has not answered.
ALTER TABLE agents ADD COLUMN schedulable INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN tls_cert_dir TEXT;
ALTER TABLE agents ADD COLUMN reserve_cpu DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN reserve_mem BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN lost_at BIGINT;
