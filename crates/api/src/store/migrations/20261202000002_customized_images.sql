-- How many customized images (sessions saved as images) a policy's users
-- may own; 0 = no limit.
ALTER TABLE resource_policies ADD COLUMN max_customized_images BIGINT NOT NULL DEFAULT 3;
