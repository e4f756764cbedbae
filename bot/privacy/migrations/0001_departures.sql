-- Communities that removed the bot (it left the server, the workspace uninstalled it), and when:
-- their data is deleted after the grace period (bot.purge_after) unless they come back.
CREATE TABLE community_departures (
    community TEXT PRIMARY KEY,
    left_at   TEXT NOT NULL
);
