-- 006: whether the job's closure was answered from the runner's memo of earlier Nix answers
-- (1: no Nix call was needed) or resolved with Nix (0).
ALTER TABLE jobs ADD COLUMN closure_cache_hit INTEGER;
