-- 002: what the daemon did besides jobs (start-up sweeps, interrupted jobs found at start-up).
CREATE TABLE runner_events (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runner_events_time ON runner_events(time_ms);
