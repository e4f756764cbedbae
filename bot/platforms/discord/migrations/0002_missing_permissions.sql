-- What the cogs need of Discord that the bot's role in the server lacks (Create Events, Create Public
-- Threads...), as last checked: `smallstep config check` and `status` warn about it until a later check
-- finds it granted.
CREATE TABLE discord_missing_permissions (
    community  TEXT NOT NULL,
    permission TEXT NOT NULL,  -- as Discord's settings name it
    lost       TEXT NOT NULL,  -- what does not happen without it
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (community, permission)
);
