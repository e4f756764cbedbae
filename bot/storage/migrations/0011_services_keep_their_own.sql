-- From here on each service keeps the migrations of its tables in its own folder, as a cog does:
-- bot/outbox/migrations, bot/audit/migrations, bot/moderation/migrations, bot/privacy/migrations.
-- A database made before has those tables from migrations recorded as the core's: their records are
-- moved to the service and number they have now, so nothing is applied twice.
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
