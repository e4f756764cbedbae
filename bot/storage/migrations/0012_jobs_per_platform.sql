-- Several processes share one database: each due run of a job is taken by the one process that moves its
-- next run on (compare and set). A job does the work of the platforms its process serves, so processes
-- serving different platforms keep a turn each: `platforms` names them, e.g. "discord" or "discord slack"
-- ("" for none). A row from before ("*") hands its time on to the first process that starts the job.
CREATE TABLE scheduled_turns (
    component   TEXT NOT NULL,
    name        TEXT NOT NULL,
    platforms   TEXT NOT NULL,
    next_run_at TEXT NOT NULL,
    PRIMARY KEY (component, name, platforms)
);
INSERT INTO scheduled_turns (component, name, platforms, next_run_at)
    SELECT component, name, '*', next_run_at FROM scheduled_jobs;
DROP TABLE scheduled_jobs;
ALTER TABLE scheduled_turns RENAME TO scheduled_jobs;
