-- The next $3 cases after id $2 of tenant $1 ('' for every tenant) to
-- reseal (as reseal_pending counts them), in id order: the sealed part in
-- hex ('' for a plain-text customer) and the plain-text customer.
-- columns: id, tenant_id, personal, customer
SELECT c.id, c.tenant_id, COALESCE(encode(c.personal, 'hex'), '') AS personal,
       c.customer::text AS customer
FROM cases c
WHERE c.id > $2::bigint AND ($1 = '' OR c.tenant_id = $1)
  AND ((c.personal IS NOT NULL
        AND seal_key_id(c.personal) <> (SELECT max(k.key_id)
                                        FROM tenant_data_keys k
                                        WHERE k.tenant_id = c.tenant_id))
       OR c.customer <> '{}'::jsonb)
ORDER BY c.id
LIMIT $3::int
