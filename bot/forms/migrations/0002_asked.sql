-- Whether the member was shown where their draft is now. Written 0 with every answer, in the same
-- statement, and 1 once the next question (or what the answer called for) was sent: a draft still at
-- 0 when the bot starts was left by a crash in between, and its question is asked again.
ALTER TABLE form_drafts ADD COLUMN asked INTEGER NOT NULL DEFAULT 1;
CREATE INDEX form_drafts_unasked ON form_drafts (asked) WHERE asked = 0;
