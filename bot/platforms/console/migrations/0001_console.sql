-- The console pretends to be a chat platform; what a platform would remember, it keeps here.

-- Small values, such as the simulated clock's offset.
CREATE TABLE console_state (
    community TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (community, key)
);

-- Members made moderators with :mod.
CREATE TABLE console_moderators (
    community TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (community, member_id)
);

-- The last message with buttons each viewer can see, so :press works after a restart,
-- as a button in a real chat stays on screen.
CREATE TABLE console_buttons (
    community TEXT NOT NULL,
    viewer    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    channel   TEXT,
    buttons   TEXT NOT NULL,
    PRIMARY KEY (community, viewer)
);
