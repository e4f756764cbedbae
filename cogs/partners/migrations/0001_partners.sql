-- The partner organisations a community works with (public radio stations, groups, universities).
CREATE TABLE partners (
    id          INTEGER PRIMARY KEY,
    community   TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,          -- the name folded to lower case: names are unique per community
    description TEXT NOT NULL DEFAULT '',
    website     TEXT NOT NULL DEFAULT '',
    region      TEXT NOT NULL DEFAULT '',
    contact     TEXT NOT NULL DEFAULT '', -- for moderators only
    logo_url    TEXT NOT NULL DEFAULT '',
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (community, name_key)
);
