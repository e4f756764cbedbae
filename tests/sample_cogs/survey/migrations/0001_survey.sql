CREATE TABLE survey_answers (
    id            INTEGER PRIMARY KEY,
    community     TEXT NOT NULL,
    submission_id TEXT NOT NULL UNIQUE,
    member_id     TEXT NOT NULL,
    form          TEXT NOT NULL,
    answers       TEXT NOT NULL,
    context       TEXT NOT NULL
);
