-- A draft's version, moved on by every step that writes it (an answer, back, a submit...). A step writes the
-- draft only if it is still at the version the step read: of two steps of one member taken at the same moment
-- in two processes (a double press, two quick messages), the second finds the draft changed and is taken
-- again from what the first wrote, so each answer is applied once, to the question it answers.
ALTER TABLE form_drafts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
