-- A reopen or complaint ($4) of tenant $1's case (id $2 or external id
-- $3) with reason $5, recorded in case_disputes with an outbox event on
-- subject $7 in the batch's transaction. The same request (same case,
-- kind and request_id $6, or the same reason when there is none) returns
-- the row stored the first time and writes no second event. The billing
-- service reads the rows and reverses what they claw back. No row: no
-- such case.
-- columns: record, created
WITH c AS (
  SELECT id, external_id, tenant_id FROM cases
  WHERE tenant_id = $1 AND (id = $2::bigint OR external_id = $3)),
ins AS (
  INSERT INTO case_disputes (case_id, tenant_id, kind, reason, idem_key)
  SELECT id, tenant_id, $4, $5, coalesce(nullif($6, ''), md5($5))
  FROM c
  ON CONFLICT (case_id, kind, idem_key) DO NOTHING
  RETURNING id, case_id, created_at),
ev AS (
  INSERT INTO outbox (subject, payload)
  SELECT $7, json_build_object('type', CASE $4 WHEN 'reopen'
                                            THEN 'case.reopened'
                                            ELSE 'complaint.filed' END,
                               'case_id', c.id,
                               'external_id', c.external_id,
                               'tenant', c.tenant_id,
                               'dispute_id', ins.id,
                               'reason', $5::text)
  FROM ins JOIN c ON c.id = ins.case_id)
SELECT json_build_object('id', d.id, 'case_id', c.id,
                         'external_id', c.external_id, 'kind', d.kind,
                         'reason', d.reason,
                         'created_at', d.created_at)::text AS record,
       EXISTS (SELECT 1 FROM ins) AS created
FROM c
CROSS JOIN LATERAL (
  SELECT ins.id, $4::text AS kind, $5::text AS reason, ins.created_at
  FROM ins
  UNION ALL
  SELECT x.id, x.kind, x.reason, x.created_at FROM case_disputes x
  WHERE x.case_id = c.id AND x.kind = $4
    AND x.idem_key = coalesce(nullif($6, ''), md5($5))
    AND NOT EXISTS (SELECT 1 FROM ins)) d
