CREATE TABLE echo_ticks (community TEXT NOT NULL, at TEXT NOT NULL);
