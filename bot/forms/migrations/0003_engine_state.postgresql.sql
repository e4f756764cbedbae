-- 0003_engine_state.sql in PostgreSQL's words (it has no json_extract, nor json_remove): the same columns, and
-- the same values moved out of `context`. As SQLite's json_extract, a JSON true is 1, a JSON null is NULL.
ALTER TABLE form_drafts ADD COLUMN intro TEXT NOT NULL DEFAULT '';
ALTER TABLE form_drafts ADD COLUMN typed TEXT;
ALTER TABLE form_drafts ADD COLUMN confirm_cancel INTEGER NOT NULL DEFAULT 0;
ALTER TABLE form_drafts ADD COLUMN switch_to TEXT;
ALTER TABLE form_drafts ADD COLUMN submitting INTEGER NOT NULL DEFAULT 0;
UPDATE form_drafts SET
    intro = COALESCE(CAST(context AS jsonb) ->> '_intro', ''),
    typed = CASE WHEN jsonb_typeof(CAST(context AS jsonb) -> '_typed') IN ('object', 'array')
                 THEN CAST(CAST(context AS jsonb) -> '_typed' AS text) END,
    confirm_cancel = CASE WHEN CAST(context AS jsonb) ->> '_confirm_cancel' IN ('true', '1') THEN 1 ELSE 0 END,
    switch_to = CASE WHEN jsonb_typeof(CAST(context AS jsonb) -> '_switch_to') IN ('object', 'array')
                     THEN CAST(CAST(context AS jsonb) -> '_switch_to' AS text) END,
    submitting = CASE WHEN CAST(context AS jsonb) ->> '_submitting' IN ('true', '1') THEN 1 ELSE 0 END,
    context = CAST(CAST(context AS jsonb) - ARRAY['_intro', '_typed', '_confirm_cancel', '_switch_to', '_submitting']
                   AS text);
