-- A moderation post is recorded before it is sent: queued in the outbox (batch) in the transaction
-- that records its item, so a restart neither loses nor doubles it. Its message id comes from the
-- outbox once delivered; rows from before this change keep the id they were given.
CREATE TABLE moderation_posts_queued (
    community  TEXT NOT NULL,
    item_kind  TEXT NOT NULL,           -- testimonial | story | ...
    item_id    INTEGER NOT NULL,
    role       TEXT NOT NULL,           -- queue | featured | spotlight
    channel    TEXT NOT NULL,
    message_id TEXT,                    -- NULL: see the outbox row of its batch
    batch      TEXT,                    -- the outbox batch that delivers it
    posted_at  TEXT NOT NULL
);
INSERT INTO moderation_posts_queued (community, item_kind, item_id, role, channel, message_id, posted_at)
    SELECT community, item_kind, item_id, role, channel, message_id, posted_at FROM moderation_posts;
DROP TABLE moderation_posts;
ALTER TABLE moderation_posts_queued RENAME TO moderation_posts;
CREATE INDEX moderation_posts_by_item ON moderation_posts (community, item_kind, item_id);
