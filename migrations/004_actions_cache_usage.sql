-- 004: what each job did with the runner's actions/cache server: lookups that found an entry and
-- their size (what the restores downloaded), lookups that found none, the size of entries saved.
ALTER TABLE jobs ADD COLUMN actions_cache_hits INTEGER;
ALTER TABLE jobs ADD COLUMN actions_cache_misses INTEGER;
ALTER TABLE jobs ADD COLUMN actions_cache_bytes_saved INTEGER;
ALTER TABLE jobs ADD COLUMN actions_cache_bytes_restored INTEGER;
