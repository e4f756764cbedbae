-- Channels the bot was to post in for the moderators but could not (missing, or closed to it), as last
-- checked: `smallstep status` and `config check` warn about them until a later check finds them usable.
CREATE TABLE channel_problems (
    community TEXT NOT NULL,
    channel   TEXT NOT NULL,   -- as the config names it
    problem   TEXT NOT NULL,
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (community, channel)
);
