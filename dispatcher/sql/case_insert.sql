-- The new cases of a batch (ids $1 drawn by case_ids, tenants $2,
-- external ids $3, case types $4, playbook versions $5, priorities $6,
-- payloads without their personal fields $7 as JSON text, and the sealed
-- personal parts $8 in hex, '' for none; no (tenant, external id) twice).
-- The customer is only in the sealed part: the column keeps its default.
-- A case that exists already is left as it is. Rows: the cases created,
-- by request number (1-based).
-- columns: n, id
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                       $5::int[], $6::int[], $7::text[], $8::text[])
           WITH ORDINALITY
           AS v(id, tenant_id, external_id, case_type, version, priority,
                payload, personal, n)),
c AS (
  INSERT INTO cases (id, tenant_id, external_id, case_type, playbook_version,
                     priority, payload, personal)
  OVERRIDING SYSTEM VALUE
  SELECT id, tenant_id, external_id, case_type, version, priority,
         payload::jsonb, decode(NULLIF(personal, ''), 'hex')
  FROM v ORDER BY n
  ON CONFLICT (tenant_id, external_id) DO NOTHING
  RETURNING id, tenant_id, external_id)
SELECT v.n, c.id
FROM c JOIN v ON v.tenant_id = c.tenant_id AND v.external_id = c.external_id
