-- A database made by the PostgreSQL work before the services kept their own migrations recorded the outbox's
-- claims as the core's 0011 (0011_outbox_claims.sql), where the core's 0011 now moves the services' records
-- (0011_services_keep_their_own.sql), which such a database never ran. Both are done here: the records of the
-- services are moved (as 0011 does; nothing is left to move where it ran), the claims are recorded as the
-- outbox's 0004, the number they have now, and the core's 0011 as what it is now. Elsewhere this changes nothing.
WITH moved (core_version, component, version, name) AS (VALUES
    (2, 'outbox', 1, '0001_outbox.sql'),
    (3, 'outbox', 2, '0002_outbox_files.sql'),
    (7, 'outbox', 3, '0003_outbox_attempts.sql'),
    (4, 'audit', 1, '0001_audit.sql'),
    (5, 'moderation', 1, '0001_moderation_posts.sql'),
    (9, 'moderation', 2, '0002_channel_problems.sql'),
    (6, 'privacy', 1, '0001_departures.sql'))
INSERT INTO schema_migrations (component, version, name, applied_at)
SELECT moved.component, moved.version, moved.name, applied.applied_at
FROM moved JOIN schema_migrations AS applied ON applied.component = 'core' AND applied.version = moved.core_version;
DELETE FROM schema_migrations WHERE component = 'core' AND version IN (2, 3, 4, 5, 6, 7, 9);
INSERT INTO schema_migrations (component, version, name, applied_at)
SELECT 'outbox', 4, '0004_outbox_claims.sql', applied_at FROM schema_migrations
WHERE component = 'core' AND version = 11 AND name = '0011_outbox_claims.sql';
UPDATE schema_migrations SET name = '0011_services_keep_their_own.sql'
WHERE component = 'core' AND version = 11 AND name = '0011_outbox_claims.sql';
