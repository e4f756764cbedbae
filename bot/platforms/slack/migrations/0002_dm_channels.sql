-- The bot's DM with each member, as conversations.open returned it: opened once, not before every message.
CREATE TABLE slack_dm_channels (
    community  TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    PRIMARY KEY (community, member_id)
);
