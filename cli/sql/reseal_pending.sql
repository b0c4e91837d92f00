-- How many cases of tenant $1 ('' for every tenant) twinline keys reseal
-- has to do: sealed under another data key than their tenant's highest,
-- or holding their customer in plain text (from before schema 014).
-- columns: pending
SELECT count(*) AS pending
FROM cases c
WHERE ($1 = '' OR c.tenant_id = $1)
  AND ((c.personal IS NOT NULL
        AND seal_key_id(c.personal) <> (SELECT max(k.key_id)
                                        FROM tenant_data_keys k
                                        WHERE k.tenant_id = c.tenant_id))
       OR c.customer <> '{}'::jsonb)
