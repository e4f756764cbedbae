-- Messages the bot posted about something moderators review (a testimonial, a story): in the
-- moderators' queue, featured in a channel. Kept so a decision or a withdrawal can edit them.
CREATE TABLE moderation_posts (
    community TEXT NOT NULL,
    item_kind TEXT NOT NULL,           -- testimonial | story | ...
    item_id   INTEGER NOT NULL,
    role      TEXT NOT NULL,           -- queue | featured | spotlight
    channel   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    posted_at TEXT NOT NULL
);
CREATE INDEX moderation_posts_by_item ON moderation_posts (community, item_kind, item_id);
