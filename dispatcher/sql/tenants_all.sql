-- Every tenant, for its read-only events consumer.
-- columns: id
SELECT id FROM tenants ORDER BY id
