-- Whether the owner of a key to be created exists ($2 its kind).
-- columns: found
SELECT count(*) AS found FROM (
    SELECT id FROM operators WHERE id = $1 AND $2::text = 'operator'
    UNION ALL
    SELECT id FROM tenants WHERE id = $1 AND $2::text = 'tenant') o
