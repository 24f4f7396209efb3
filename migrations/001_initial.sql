-- 001: jobs, their steps, and the proxy's network decisions.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    forge_task_id INTEGER NOT NULL,
    repo TEXT NOT NULL DEFAULT '',
    workflow TEXT NOT NULL DEFAULT '',
    job TEXT NOT NULL DEFAULT '',
    matrix TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'running',
    started_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER,
    closure_resolution_ms INTEGER,
    root_prepare_ms INTEGER,
    workspace_prepare_ms INTEGER,
    proxy_setup_ms INTEGER,
    execution_ms INTEGER,
    cleanup_ms INTEGER,
    workspace_cache_hit INTEGER,
    root_cache_hit INTEGER,
    closure_size_bytes INTEGER,
    closure_path_count INTEGER,
    peak_memory_bytes INTEGER,
    cpu_seconds REAL,
    exit_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_started ON jobs(started_at_ms);
CREATE INDEX jobs_task ON jobs(forge_task_id);

CREATE TABLE steps (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    step_index INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    started_at_ms INTEGER,
    ended_at_ms INTEGER,
    exit_code INTEGER,
    duration_ms INTEGER,
    peak_memory_bytes INTEGER,
    oom INTEGER NOT NULL DEFAULT 0,
    timed_out INTEGER NOT NULL DEFAULT 0,
    UNIQUE (job_id, step_index)
);

CREATE TABLE network_decisions (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    time_ms INTEGER NOT NULL,
    method TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    rule TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    credential_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX network_decisions_job ON network_decisions(job_id);
