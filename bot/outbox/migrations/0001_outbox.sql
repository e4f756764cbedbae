-- Messages waiting to be delivered, one row per recipient: announcements to channels, reminders
-- and notices to members. A row is written before its message is sent and marked once it was,
-- so a crash halfway through a fan-out resumes where it stopped, and a batch never reaches
-- the same channel or member twice.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    community   TEXT NOT NULL,
    platform    TEXT NOT NULL,
    batch       TEXT NOT NULL,          -- what it belongs to, e.g. events:announce:12
    target_kind TEXT NOT NULL,          -- channel | member
    target_id   TEXT NOT NULL,
    target_name TEXT NOT NULL,
    message     TEXT NOT NULL,          -- the Message as JSON, already rendered for the platform
    status      TEXT NOT NULL,          -- pending | sent | unreachable | failed | expired | withdrawn
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT NOT NULL,          -- the earliest moment to try (later after a failure)
    expires_at  TEXT,                   -- never delivered after this (a reminder of an event that began)
    message_id  TEXT,                   -- the platform's id of the delivered message, to edit it later
    problem     TEXT,                   -- why it failed, for the moderators
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    UNIQUE (community, batch, target_kind, target_id)
);
CREATE INDEX outbox_due ON outbox (status, platform, not_before);
CREATE INDEX outbox_by_member ON outbox (community, target_kind, target_id, status);
