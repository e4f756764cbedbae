-- Events: talks, listening sessions and discussions, often with a partner organisation.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    community    TEXT NOT NULL,
    title        TEXT NOT NULL,
    partner_id   INTEGER,                 -- a partner of the partners cog, if any
    starts_local TEXT NOT NULL,           -- the first start on the wall clock, e.g. 2026-12-10T18:00:00
    timezone     TEXT NOT NULL,           -- the zone that wall clock is in, e.g. Europe/Berlin
    minutes      INTEGER NOT NULL,        -- how long each occurrence lasts
    place        TEXT NOT NULL DEFAULT '', -- an address, or a link for an online event
    description  TEXT NOT NULL DEFAULT '',
    capacity     INTEGER,                 -- places; NULL: no limit
    channels     TEXT NOT NULL DEFAULT '[]', -- where it is announced: JSON [[id, name], ...]
    recurrence   TEXT,                    -- an RFC 5545 RRULE; NULL for a one-off
    status       TEXT NOT NULL,           -- scheduled | cancelled
    revision     INTEGER NOT NULL DEFAULT 1, -- raised by every change (the calendar's SEQUENCE)
    cancel_note  TEXT,                    -- why it is cancelled, told to those who were going
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX events_by_status ON events (community, status);

-- Who said they are going, might go, can't go, or wait for a place. One answer per member per
-- event; for a recurring event it holds for every occurrence until changed.
CREATE TABLE event_rsvps (
    community     TEXT NOT NULL,
    event_id      INTEGER NOT NULL REFERENCES events (id),
    member_id     TEXT NOT NULL,
    member_name   TEXT NOT NULL,
    answer        TEXT NOT NULL,          -- going | maybe | no | waitlist
    answered_at   TEXT NOT NULL,          -- also the order of the waitlist
    first_going_at TEXT,                  -- when they first said going: event.rsvp is emitted once
    PRIMARY KEY (community, event_id, member_id)
);

-- Who was there, as a moderator marked it.
CREATE TABLE event_attendance (
    community  TEXT NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES events (id),
    member_id  TEXT NOT NULL,
    marked_by  TEXT NOT NULL,
    marked_at  TEXT NOT NULL,
    PRIMARY KEY (community, event_id, member_id)
);

-- The time zone each member sees times in (/timezone set).
CREATE TABLE member_timezones (
    community TEXT NOT NULL,
    member_id TEXT NOT NULL,
    timezone  TEXT NOT NULL,
    PRIMARY KEY (community, member_id)
);
