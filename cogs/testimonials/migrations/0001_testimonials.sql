-- Testimonials members submitted through the /testimonial form, and what moderators decided.
CREATE TABLE testimonials (
    id              INTEGER PRIMARY KEY,
    community       TEXT NOT NULL,
    member_id       TEXT NOT NULL,
    member_name     TEXT NOT NULL,          -- the display name when submitted, for the credit
    submission_id   TEXT NOT NULL UNIQUE,   -- the form's submission: a retried submit is recorded once
    story           TEXT NOT NULL,
    surprise        TEXT NOT NULL,
    advice          TEXT,
    credit          TEXT NOT NULL,          -- full_name | first_name | anonymous
    consent_given   INTEGER NOT NULL,
    consent_wording TEXT NOT NULL,          -- exactly what the member agreed to
    consent_at      TEXT NOT NULL,
    status          TEXT NOT NULL,          -- pending | approved | rejected | changes_requested | withdrawn
    moderator_note  TEXT,                   -- the reason for a rejection, or the changes asked for
    decided_by      TEXT,
    submitted_at    TEXT NOT NULL,
    decided_at      TEXT
);
CREATE INDEX testimonials_by_status ON testimonials (community, status);
CREATE INDEX testimonials_by_member ON testimonials (community, member_id);
