-- Public conversations in the program's archive that members put forward to be passed on (step 2).
CREATE TABLE stories (
    id           INTEGER PRIMARY KEY,
    community    TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    member_name  TEXT NOT NULL,
    url          TEXT NOT NULL,           -- as the member gave it
    url_key      TEXT NOT NULL,           -- the same address normalised: one story per conversation
    why          TEXT,                    -- a line about why it matters, if given
    status       TEXT NOT NULL,           -- pending | approved | rejected
    note         TEXT,                    -- why it was rejected
    submitted_at TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    UNIQUE (community, url_key)
);

-- Each time a story was in the spotlight: the next one is the least shown.
CREATE TABLE story_spotlights (
    community TEXT NOT NULL,
    story_id  INTEGER NOT NULL REFERENCES stories (id),
    shown_at  TEXT NOT NULL
);
CREATE INDEX story_spotlights_by_story ON story_spotlights (community, story_id);

-- Members who said they passed a story on: the step counts once per story.
CREATE TABLE story_shares (
    community TEXT NOT NULL,
    story_id  INTEGER NOT NULL REFERENCES stories (id),
    member_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (community, story_id, member_id)
);
