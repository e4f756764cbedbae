-- Several processes deliver from one database: which of them holds a message it is delivering, and until
-- when (its lease; then, should that process have died, any other takes it). A delivered message keeps
-- the name of the process that sent it.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
