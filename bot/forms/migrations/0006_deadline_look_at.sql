-- When the deadlines job next looks at a draft: no later than its nearer deadline (the reminder, or expiry), and
-- indexed in place of it. Every answer moves both deadlines on, but not this: an index entry rewritten by every
-- answer cost about as much as the rest of the answer's write. The job moves it on, to the nearer deadline the
-- draft has then, when it finds a draft not due yet. A draft from before starts at '': the job's next run
-- looks at it.
ALTER TABLE form_drafts ADD COLUMN look_at TEXT NOT NULL DEFAULT '';
DROP INDEX form_drafts_due;
CREATE INDEX form_drafts_look_at ON form_drafts (look_at);
-- Drafts whose member was not shown where they are are looked for once, at start, without an index: every
-- answer put an entry in it (`asked` 0), and the mark that the member was shown took it out again.
DROP INDEX form_drafts_unasked;
