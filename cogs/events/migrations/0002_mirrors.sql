-- Each occurrence of an event as copied into the platform's own list of events (Discord's scheduled
-- events): ours stays the source of truth; this row is what was copied, so that a change, a cancellation,
-- an end or the next occurrence of a series is carried over once, across restarts.
CREATE TABLE event_mirrors (
    id         INTEGER PRIMARY KEY,
    community  TEXT NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES events (id),
    mirror_id  TEXT,                  -- the platform's id of the copy; NULL until it answered
    starts_at  TEXT NOT NULL,         -- the occurrence it shows (UTC)
    ends_at    TEXT NOT NULL,
    revision   INTEGER NOT NULL,      -- the event's revision it shows
    state      TEXT NOT NULL,         -- making | listed | started | refused | ended | cancelled | gone
    tried_at   TEXT,                  -- when making it began (its outcome unknown until it is listed)
    retry_at   TEXT                   -- refused: when to try again
);
CREATE INDEX event_mirrors_by_event ON event_mirrors (community, event_id, state);
CREATE INDEX event_mirrors_by_copy ON event_mirrors (community, mirror_id);
