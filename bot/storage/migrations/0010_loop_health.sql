-- How each background loop and scheduled job is doing (bot-wide bookkeeping, like scheduled_jobs):
-- its last success and its last error, for `smallstep status` run from another process.
CREATE TABLE loop_health (
    name          TEXT PRIMARY KEY,  -- scheduler | outbox | job cog:events/remind | ...
    last_ok_at    TEXT,
    last_error_at TEXT,
    last_error    TEXT,              -- the kind of error and its first line; never a member's words
    failures      INTEGER NOT NULL DEFAULT 0  -- in a row, since the last success
);
