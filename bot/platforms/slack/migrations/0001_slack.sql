-- Events already handled: Slack retries an event it thinks was missed (X-Slack-Retry-Num),
-- and a retried event must not act twice.
CREATE TABLE slack_events (
    community   TEXT NOT NULL,
    event_id    TEXT NOT NULL PRIMARY KEY,
    received_at TEXT NOT NULL
);
