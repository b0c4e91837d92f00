-- twinline load: tenant $1 (name, kind, priority), written only when it
-- changed.
INSERT INTO tenants (id, name, kind, priority)
VALUES ($1, $2, $3, $4::int)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
    kind = EXCLUDED.kind, priority = EXCLUDED.priority
WHERE (tenants.name, tenants.kind, tenants.priority)
    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.priority)
