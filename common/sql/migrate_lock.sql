-- One migrator at a time: every Twinline migrator takes this advisory lock
-- (an arbitrary constant, "tarline" in hex) before it looks at the schema.
-- columns: locked
SELECT pg_advisory_lock(x'7461726c696e65'::bigint) AS locked
