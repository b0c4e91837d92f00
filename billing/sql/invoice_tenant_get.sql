-- The name printed on a tenant's invoices.
-- columns: name
SELECT name FROM tenants WHERE id = $1
