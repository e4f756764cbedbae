-- A draft's two deadlines in one index: each answer moves both, and keeping two indexes in step cost more
-- than the rest of the answer's write. The job asks for drafts whose nearer deadline has come.
DROP INDEX form_drafts_remind;
DROP INDEX form_drafts_expire;
CREATE INDEX form_drafts_due ON form_drafts (MIN(COALESCE(remind_at, expire_at), expire_at));
