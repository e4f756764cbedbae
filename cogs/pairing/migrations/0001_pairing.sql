-- Members who take part in pairing, with their answers. The answers are private: they are never
-- shown to another member, and moderators see only aggregates (/pairing stats).
CREATE TABLE pairing_members (
    community     TEXT NOT NULL,
    member_id     TEXT NOT NULL,
    member_name   TEXT NOT NULL,
    submission_id TEXT NOT NULL,            -- the form's submission: a retried submit is recorded once
    views         TEXT NOT NULL,            -- JSON list, one "agree" | "disagree" per statement
    timezone      TEXT NOT NULL,
    availability  TEXT NOT NULL,            -- JSON list of slots: weekday_evenings, weekend_mornings, ...
    formats       TEXT NOT NULL,            -- JSON list: video | phone | in_person
    town          TEXT NOT NULL DEFAULT '', -- for in person
    avoid         TEXT NOT NULL DEFAULT '', -- what they would rather not discuss (shown only to them)
    status        TEXT NOT NULL,            -- in | paused
    waiting_since TEXT,                     -- left out of a round: first in line at the next
    joined_at     TEXT NOT NULL,
    PRIMARY KEY (community, member_id)
);

-- Each round: when, how many were in, how many pairs (counts only).
CREATE TABLE pairing_rounds (
    id         INTEGER PRIMARY KEY,
    community  TEXT NOT NULL,
    at         TEXT NOT NULL,
    started_by TEXT NOT NULL DEFAULT '',   -- a moderator's id, or '' for the schedule
    members    INTEGER NOT NULL,
    pairs      INTEGER NOT NULL
);
CREATE INDEX pairing_rounds_by_community ON pairing_rounds (community, at);

-- The pairs. A member's id and name are emptied when they erase their data; the pair's
-- difference and whether they met stay, as counts that name no one.
CREATE TABLE pairing_pairs (
    id           INTEGER PRIMARY KEY,
    community    TEXT NOT NULL,
    round_id     INTEGER NOT NULL REFERENCES pairing_rounds (id),
    member_a     TEXT NOT NULL,
    name_a       TEXT NOT NULL,
    member_b     TEXT NOT NULL,
    name_b       TEXT NOT NULL,
    difference   REAL NOT NULL,            -- share of statements they answered differently, 0..1
    follow_up_at TEXT NOT NULL,            -- when to ask "Did you meet?" (next)
    asked        INTEGER NOT NULL DEFAULT 0,
    answer_a     TEXT,                     -- yes | not_yet | wont
    answer_b     TEXT,
    rating_a     INTEGER,                  -- 1..5, private, for aggregates only
    rating_b     INTEGER,
    met_at       TEXT
);
CREATE INDEX pairing_pairs_a ON pairing_pairs (community, member_a);
CREATE INDEX pairing_pairs_b ON pairing_pairs (community, member_b);
CREATE INDEX pairing_pairs_due ON pairing_pairs (follow_up_at);

-- "Never pair me with them." Who was blocked is kept as a one-way fingerprint of their id, so the
-- block still holds if they erase their data and join again, and no row names them.
CREATE TABLE pairing_blocks (
    community   TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    blocked     TEXT NOT NULL,             -- fingerprint (bot pairing.fingerprint) of the blocked member
    at          TEXT NOT NULL,
    PRIMARY KEY (community, member_id, blocked)
);

-- Members a moderator left out of the rounds. Kept by fingerprint, like blocks: leaving and joining
-- again (or erasing one's data) does not undo it, and the member's own data does not show it.
CREATE TABLE pairing_exclusions (
    community   TEXT NOT NULL,
    excluded    TEXT NOT NULL,             -- fingerprint of the member left out
    excluded_by TEXT NOT NULL,             -- the moderator
    at          TEXT NOT NULL,
    PRIMARY KEY (community, excluded)
);
