-- The bot's DM channel with each member, once opened: a direct message then costs one request
-- (the message), not three (looking the user up, opening the channel, the message).
CREATE TABLE discord_dm_channels (
    community  TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    PRIMARY KEY (community, member_id)
);
