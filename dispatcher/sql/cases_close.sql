-- Close the open cases in $1, each with a case.closed event on
-- $2 || tenant || $3.
WITH c AS (
  UPDATE cases SET state = 'closed', closed_at = now()
  WHERE id = ANY($1::bigint[]) AND state = 'open'
  RETURNING id, external_id, tenant_id)
INSERT INTO outbox (subject, payload)
SELECT $2 || c.tenant_id || $3,
       json_build_object('type', 'case.closed', 'case_id', c.id,
                         'external_id', c.external_id, 'state', 'closed',
                         'tenant', c.tenant_id)
FROM c
