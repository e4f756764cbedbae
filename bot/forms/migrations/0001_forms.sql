-- Open forms: one draft per member per community, written after every answer.
CREATE TABLE form_drafts (
    community      TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    member_name    TEXT NOT NULL,
    form           TEXT NOT NULL,
    submission_id  TEXT NOT NULL,            -- stays the same if a submit is retried
    answers        TEXT NOT NULL DEFAULT '{}',  -- as the member typed them (JSON)
    current        TEXT,                     -- the question being asked; NULL at the review
    origin_channel TEXT,                     -- where the member started, to reach them if DMs fail
    context        TEXT NOT NULL DEFAULT '{}',  -- the cog's own data, and pending confirmations
    started_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    remind_at      TEXT,                     -- NULL once the reminder was sent
    expire_at      TEXT NOT NULL,
    PRIMARY KEY (community, member_id)
);
CREATE INDEX form_drafts_remind ON form_drafts (remind_at);
CREATE INDEX form_drafts_expire ON form_drafts (expire_at);
