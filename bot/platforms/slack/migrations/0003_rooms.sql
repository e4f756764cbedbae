-- Group DMs the bot opened as a pair's room (conversations.open of several users): their history is never
-- read, not even to tell whether a message arrived, so the bot asks for no mpim:history scope.
CREATE TABLE slack_rooms (
    community  TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    PRIMARY KEY (community, channel_id)
);
