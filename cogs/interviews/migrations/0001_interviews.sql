-- Recorded conversations that are ready in the archive (step 3), and whether they may be public.
CREATE TABLE interviews (
    id            INTEGER PRIMARY KEY,
    community     TEXT NOT NULL,
    url           TEXT NOT NULL,
    url_key       TEXT NOT NULL,          -- the address normalised: one row per recording
    external_id   TEXT,                   -- the archive's own id, from an import or the webhook
    member_id     TEXT NOT NULL,
    member_name   TEXT NOT NULL,
    partner_id    TEXT,                   -- the partner, when they are a member here too
    partner_name  TEXT NOT NULL DEFAULT '', -- the partner's name, when they are not
    outside_answer TEXT,                  -- yes once a moderator recorded an outside partner's agreement
    status        TEXT NOT NULL,          -- asking | public
    source        TEXT NOT NULL,          -- command | import | webhook
    created_at    TEXT NOT NULL,
    published_at  TEXT,
    UNIQUE (community, url_key)
);
CREATE UNIQUE INDEX interviews_by_external_id ON interviews (community, external_id) WHERE external_id IS NOT NULL;

-- Each member's answer: may the recording be public? Changeable until it is published.
CREATE TABLE interview_consents (
    community    TEXT NOT NULL,
    interview_id INTEGER NOT NULL REFERENCES interviews (id),
    member_id    TEXT NOT NULL,
    member_name  TEXT NOT NULL,
    answer       TEXT,                    -- yes | no | NULL (not yet)
    asked_at     TEXT NOT NULL,
    answered_at  TEXT,
    reminded_at  TEXT,                    -- the one reminder, if it was needed
    PRIMARY KEY (community, interview_id, member_id)
);

-- Signatures of webhook requests already taken, so a replayed request is refused.
CREATE TABLE interview_webhook_seen (
    community TEXT NOT NULL,
    signature TEXT NOT NULL,
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (community, signature)
);
