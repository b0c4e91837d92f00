-- The tenant/case type pairs the operator's pools serve.
-- columns: served
SELECT DISTINCT ct.tenant_id || '/' || cc.case_type AS served
  FROM contracts ct JOIN pools p ON p.id = ct.pool_id
  JOIN contract_case_types cc ON cc.contract_id = ct.id
 WHERE p.operator_id = $1::text
 ORDER BY 1
