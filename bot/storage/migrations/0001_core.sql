-- Every domain event the bot has seen: what cogs react to, and the history badges are computed from.
CREATE TABLE domain_events (
    id         INTEGER PRIMARY KEY,
    community  TEXT NOT NULL,
    member_id  TEXT,
    name       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    at         TEXT NOT NULL
);
CREATE INDEX domain_events_by_member ON domain_events (community, member_id, name);

-- When each periodic job runs next, so a restart neither skips nor repeats one.
CREATE TABLE scheduled_jobs (
    component   TEXT NOT NULL,
    name        TEXT NOT NULL,
    next_run_at TEXT NOT NULL,
    PRIMARY KEY (component, name)
);
