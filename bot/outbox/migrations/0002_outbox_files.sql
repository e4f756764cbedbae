-- Images and files of queued messages, kept once however many messages carry them (a badge's
-- picture sent to a thousand members is stored once). Rows of `outbox` name them by hash.
CREATE TABLE outbox_files (
    community TEXT NOT NULL,
    hash      TEXT NOT NULL,            -- sha256 of the data
    data      BLOB NOT NULL,
    PRIMARY KEY (community, hash)
);
