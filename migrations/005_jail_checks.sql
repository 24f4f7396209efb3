-- 005: the jail's self-check before each job's first step: one row per promise (capabilities,
-- no_new_privs, seccomp, network, store, cgroup), whether the jail kept it, and what was seen.
-- A job refused by its self-check has failed rows here and no steps.
CREATE TABLE jail_checks (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    passed INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jail_checks_job ON jail_checks(job_id);
