-- Whether tenant $1 is registered (a row) or not (none).
-- columns: known
SELECT 1 AS known FROM tenants WHERE id = $1
