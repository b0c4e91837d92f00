-- Release the migrator's advisory lock (see migrate_lock.sql).
-- columns: unlocked
SELECT pg_advisory_unlock(x'7461726c696e65'::bigint) AS unlocked
