-- 0004_one_deadline_index.sql in PostgreSQL's words: its MIN of two values is LEAST (and an index on an
-- expression takes it in parentheses of its own).
DROP INDEX form_drafts_remind;
DROP INDEX form_drafts_expire;
CREATE INDEX form_drafts_due ON form_drafts ((LEAST(COALESCE(remind_at, expire_at), expire_at)));
