-- The tenants, for twinline keys rotate without --tenant.
-- columns: id
SELECT id FROM tenants ORDER BY id
