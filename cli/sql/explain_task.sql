-- twinline explain: task $1 with its case's tenant and type.
-- columns: step, state, tenant_id, case_type, case_id, cancel_reason
SELECT t.step, t.state, c.tenant_id, c.case_type, t.case_id,
       COALESCE(t.cancel_reason, '') AS cancel_reason
  FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.id = $1::bigint
