-- How many sessions a policy's users may have waiting (PENDING) at once;
-- 0 = no limit.
ALTER TABLE resource_policies ADD COLUMN max_pending_sessions BIGINT NOT NULL DEFAULT 100;
