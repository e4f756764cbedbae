-- The engine's own state of a draft, in columns of its own: until now it sat in the `context` JSON beside
-- the cog's data, under keys starting with "_". Moved out of every open draft, so each form goes on as it was.
ALTER TABLE form_drafts ADD COLUMN intro TEXT NOT NULL DEFAULT '';   -- said before the first question, and when resumed
ALTER TABLE form_drafts ADD COLUMN typed TEXT;                       -- what a refused dialog held, by question (JSON)
ALTER TABLE form_drafts ADD COLUMN confirm_cancel INTEGER NOT NULL DEFAULT 0;  -- "cancel" said once: a second ends it
ALTER TABLE form_drafts ADD COLUMN switch_to TEXT;                   -- another form started meanwhile, waiting (JSON)
ALTER TABLE form_drafts ADD COLUMN submitting INTEGER NOT NULL DEFAULT 0;  -- its cog's handler is running now
UPDATE form_drafts SET
    intro = COALESCE(json_extract(context, '$._intro'), ''),
    typed = json_extract(context, '$._typed'),
    confirm_cancel = COALESCE(json_extract(context, '$._confirm_cancel'), 0),
    switch_to = json_extract(context, '$._switch_to'),
    submitting = COALESCE(json_extract(context, '$._submitting'), 0),
    context = json_remove(context, '$._intro', '$._typed', '$._confirm_cancel', '$._switch_to', '$._submitting');
