-- 007: what `nixjail-runner replay` needs to run the job again, as JSON (runner/daemon/
-- replay_record.h): the task's workflow, github context, vars and needs, the names of its secrets
-- (never their values, nor the task's tokens), the matrix combination, and what its root was made
-- from (packages, nixpkgs, closure key). NULL: the job was recorded before this migration.
ALTER TABLE jobs ADD COLUMN replay TEXT;
