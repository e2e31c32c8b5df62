-- A resource policy's idle timeout: overrides the server's network idle
-- timeout and utilization window for its keypairs' sessions (seconds;
-- 0 turns both rules off; NULL keeps the server's settings).
ALTER TABLE resource_policies ADD COLUMN idle_timeout BIGINT;
