-- What members reported to the moderators: a message, a submission, someone's behaviour.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    community   TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_name TEXT NOT NULL,
    what        TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',  -- a link to the message, if given
    status      TEXT NOT NULL,             -- open | handled
    reported_at TEXT NOT NULL,
    handled_by  TEXT,
    handled_at  TEXT,
    note        TEXT
);
