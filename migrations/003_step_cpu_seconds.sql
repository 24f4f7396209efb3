-- 003: the CPU time of each step's processes (the job's is the sum, in jobs.cpu_seconds).
ALTER TABLE steps ADD COLUMN cpu_seconds REAL;
