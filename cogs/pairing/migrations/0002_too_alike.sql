-- How many members each round left out because everyone they could have met answered too few
-- statements differently (cogs.pairing.min_difference): a count, naming no one.
ALTER TABLE pairing_rounds ADD COLUMN too_alike INTEGER NOT NULL DEFAULT 0;
