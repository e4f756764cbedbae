-- Per-member limits, shared by every process of the bot and kept over a restart: how many times a member has
-- used `what` (`commands`: any command, for safety.commands_per_minute; `/story submit`: a command with a
-- cooldown; `form:testimonial`: a form's submit_cooldown) in the window that ends at `window_ends` (seconds
-- since 1970, UTC, on the bot's clock). A row whose window has ended counts for nothing: the next use starts a
-- new one, and the hourly tidy deletes it (a sweep of a small table, so no index is kept up on every command).
CREATE TABLE member_limits (
    community   TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    what        TEXT NOT NULL,
    used        INTEGER NOT NULL,
    window_ends REAL NOT NULL,
    PRIMARY KEY (community, member_id, what)
);
