-- 008: the services_start phase: from the start of a job's first service (services:) to the last
-- one ready; NULL for a job without services.
ALTER TABLE jobs ADD COLUMN services_start_ms INTEGER;
