-- Each time a member opened the share kit (for the community's statistics).
CREATE TABLE share_offers (
    id         INTEGER PRIMARY KEY,
    community  TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    offered_at TEXT NOT NULL
);
CREATE INDEX share_offers_by_member ON share_offers (community, member_id);

-- Members who said they shared: one row each, however often they press the button.
CREATE TABLE shares (
    community TEXT NOT NULL,
    member_id TEXT NOT NULL,
    shared_at TEXT NOT NULL,
    PRIMARY KEY (community, member_id)
);
