-- The outbox's pace on each platform, shared by every process of the bot (Discord's 50 requests a second
-- count them all together): the moment, in seconds since 1970 (UTC), from which its next message may go.
CREATE TABLE send_pace (
    platform TEXT PRIMARY KEY,
    next_at  REAL NOT NULL
);
