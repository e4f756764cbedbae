-- Members who said they are bringing a group of theirs into the program (step 8).
CREATE TABLE outreach_invitations (
    community   TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_name TEXT NOT NULL,
    kind        TEXT NOT NULL,            -- church | workplace | school | club | other
    at          TEXT NOT NULL,
    PRIMARY KEY (community, member_id, kind)
);

-- Organisations that would like to partner with the program (step 9), from the /partner-with-us form.
CREATE TABLE partner_interest (
    id            INTEGER PRIMARY KEY,
    community     TEXT NOT NULL,
    member_id     TEXT NOT NULL,
    member_name   TEXT NOT NULL,
    submission_id TEXT NOT NULL UNIQUE,    -- the form's submission: a retried submit is recorded once
    organisation  TEXT NOT NULL,
    contact_name  TEXT NOT NULL,
    email         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    wants         TEXT NOT NULL,           -- own_program | events | webinar
    message       TEXT,
    status        TEXT NOT NULL,           -- open | done
    submitted_at  TEXT NOT NULL,
    done_by       TEXT,
    done_at       TEXT
);

-- The archive of past webinars.
CREATE TABLE webinars (
    id          INTEGER PRIMARY KEY,
    community   TEXT NOT NULL,
    title       TEXT NOT NULL,
    held_on     TEXT NOT NULL,             -- a date, e.g. 2026-09-14
    link        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL
);
