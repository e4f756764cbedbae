-- When the latest attempt to deliver a message began. Written before the platform is asked, so after
-- a crash (or a lost connection) the next attempt knows the outcome of the last one is unknown, and an
-- adapter that can look for the message it may have posted (Slack's history) does so instead of posting again.
ALTER TABLE outbox ADD COLUMN tried_at TEXT;
