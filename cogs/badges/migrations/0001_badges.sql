-- The badges members hold: earned from their steps, granted by a moderator, or found in history.
CREATE TABLE badge_awards (
    community   TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_name TEXT NOT NULL,
    badge       TEXT NOT NULL,
    status      TEXT NOT NULL,         -- held | revoked (a revoked badge is not earned again by itself)
    how         TEXT NOT NULL,         -- earned | granted | backfill
    awarded_at  TEXT NOT NULL,             -- its congratulations were queued in the same transaction
    PRIMARY KEY (community, member_id, badge)
);

-- Members who keep their badges to themselves: not celebrated in a channel, not shown to others.
CREATE TABLE badge_privacy (
    community TEXT NOT NULL,
    member_id TEXT NOT NULL,
    public    INTEGER NOT NULL,
    PRIMARY KEY (community, member_id)
);
