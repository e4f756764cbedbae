-- What happens after an introduction: a room for the pair, the bot's own signals of who took part,
-- pausing by date or after silence, a time the pair picked, the invitation to record, the pulse.

-- /pairing pause until: the day (in the member's own time zone) they are put back in the rounds.
ALTER TABLE pairing_members ADD COLUMN paused_until TEXT;
-- Introductions in a row the member let pass without a sign (no answer, no button of the pair pressed).
ALTER TABLE pairing_members ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;

-- 0 while the pair's room is still to be opened (the introduction waits for it); 1 once introduced.
ALTER TABLE pairing_pairs ADD COLUMN introduced INTEGER NOT NULL DEFAULT 1;
-- The pair's room on the platform (a private thread, a group DM); '' when they were introduced by DM.
-- The bot posts there and never reads or keeps what the two of them write.
ALTER TABLE pairing_pairs ADD COLUMN room TEXT NOT NULL DEFAULT '';
ALTER TABLE pairing_pairs ADD COLUMN room_name TEXT NOT NULL DEFAULT '';
ALTER TABLE pairing_pairs ADD COLUMN room_closed INTEGER NOT NULL DEFAULT 0;
-- Which of the community's opening questions the introduction suggested: "Next question" goes on from it.
ALTER TABLE pairing_pairs ADD COLUMN first_turn INTEGER NOT NULL DEFAULT 0;
-- The last sign from each member about this pair: an answer or a press of one of its buttons.
ALTER TABLE pairing_pairs ADD COLUMN heard_a TEXT;
ALTER TABLE pairing_pairs ADD COLUMN heard_b TEXT;
-- One of them ended the pairing ("End"): no more "Did you meet?", the room closes.
ALTER TABLE pairing_pairs ADD COLUMN ended_at TEXT;
-- The follow-up is over (met, ended, or asked and not answered): silence was counted, the room closes.
ALTER TABLE pairing_pairs ADD COLUMN concluded_at TEXT;
-- The time one of them picked with "Suggest a time" (UTC).
ALTER TABLE pairing_pairs ADD COLUMN meet_at TEXT;
-- Invited to record their conversation for the archive (both met and both rated it 4 or 5): each one's
-- answer (yes | no), and when both said yes.
ALTER TABLE pairing_pairs ADD COLUMN recording_asked_at TEXT;
ALTER TABLE pairing_pairs ADD COLUMN recording_a TEXT;
ALTER TABLE pairing_pairs ADD COLUMN recording_b TEXT;
ALTER TABLE pairing_pairs ADD COLUMN recording_agreed_at TEXT;
CREATE INDEX pairing_pairs_open ON pairing_pairs (concluded_at, introduced);

-- The impact pulse: a 0 to 100 "feeling thermometer" toward people who vote differently, optional and
-- private, asked when joining ('before', pair_id 0) and after each conversation both said happened
-- ('after', that pair). Moderators see only the change in the average, from five who answered both.
CREATE TABLE pairing_pulse (
    community TEXT NOT NULL,
    member_id TEXT NOT NULL,
    moment    TEXT NOT NULL,             -- before | after
    pair_id   INTEGER NOT NULL DEFAULT 0,
    feeling   INTEGER NOT NULL,          -- 0 (cold) .. 100 (warm)
    at        TEXT NOT NULL,
    PRIMARY KEY (community, member_id, moment, pair_id)
);
