-- A community's own list of opening questions for /practice; when empty, the built-in list is used.
CREATE TABLE practice_questions (
    id        INTEGER PRIMARY KEY,
    community TEXT NOT NULL,
    position  INTEGER NOT NULL,
    text      TEXT NOT NULL
);
CREATE INDEX practice_questions_by_community ON practice_questions (community, position);
