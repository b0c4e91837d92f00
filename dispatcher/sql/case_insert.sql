-- The new cases of a batch (tenants $1, external ids $2, case types $3,
-- playbook versions $4, priorities $5, customers $6 and payloads $7 as
-- JSON text; no (tenant, external id) twice). A case that exists already
-- is left as it is. Rows: the cases created, by request number (1-based).
-- columns: n, id
WITH v AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[],
                       $5::int[], $6::text[], $7::text[])
           WITH ORDINALITY
           AS v(tenant_id, external_id, case_type, version, priority,
                customer, payload, n)),
c AS (
  INSERT INTO cases (tenant_id, external_id, case_type, playbook_version,
                     priority, customer, payload)
  SELECT tenant_id, external_id, case_type, version, priority,
         customer::jsonb, payload::jsonb
  FROM v ORDER BY n
  ON CONFLICT (tenant_id, external_id) DO NOTHING
  RETURNING id, tenant_id, external_id)
SELECT v.n, c.id
FROM c JOIN v ON v.tenant_id = c.tenant_id AND v.external_id = c.external_id
