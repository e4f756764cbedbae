-- The last number given to each kind of numbered thing (testimonials, stories, reports, events, ...)
-- in each community, so that a number is never given twice there, even once the row that had it was
-- erased: an audit line or an old message about #3 must never come to mean someone else's #3.
CREATE TABLE numbers (
    community TEXT NOT NULL,
    kind      TEXT NOT NULL,   -- the table the number is the id of
    last      INTEGER NOT NULL,
    PRIMARY KEY (community, kind)
);
