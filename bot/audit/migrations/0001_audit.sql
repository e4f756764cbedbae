-- What moderators did, who, when and why: grants and revocations of badges, and more.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    community      TEXT NOT NULL,
    moderator_id   TEXT NOT NULL,
    moderator_name TEXT NOT NULL,
    action         TEXT NOT NULL,        -- e.g. badge.grant
    target         TEXT NOT NULL DEFAULT '', -- whom or what it was done to
    reason         TEXT NOT NULL DEFAULT '',
    details        TEXT NOT NULL DEFAULT '{}',
    at             TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (community, at);
