-- The console now remembers every message with buttons a viewer can still see (not only the
-- last one), so `:press` can reach an earlier message, as one scrolls up in a real chat.
CREATE TABLE console_messages (
    community TEXT NOT NULL,
    seq       INTEGER NOT NULL,           -- the message's number, as `:press 5.1` names it
    viewer    TEXT NOT NULL,              -- @member (private or DM) or #channel
    channel   TEXT,                       -- where a press of its buttons comes from; NULL in DMs
    title     TEXT NOT NULL DEFAULT '',   -- its first line, to say which message a press went to
    buttons   TEXT NOT NULL,
    PRIMARY KEY (community, seq)
);
INSERT INTO console_messages (community, seq, viewer, channel, buttons)
    SELECT community, seq, viewer, channel, buttons FROM console_buttons;
DROP TABLE console_buttons;

-- The clock's offset lasts for one run of the console (`:clock reset` ends it sooner): a saved
-- offset made real dates "in the past" after a restart.
DROP TABLE console_state;
