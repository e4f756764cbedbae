CREATE TABLE echo_heard (community TEXT NOT NULL, member_id TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE echo_runs (community TEXT NOT NULL, at TEXT NOT NULL);
