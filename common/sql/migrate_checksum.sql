-- The checksum recorded when migration $1 was applied (no row: not yet).
-- columns: checksum
SELECT checksum FROM schema_migrations WHERE name = $1
