-- Operator $3 sets task $1's priority to $2; only open tasks, which the
-- router knows, can change, and only tasks the operator serves (a
-- contract of one of its pools covers their tenant and case type).
-- columns: id, state
UPDATE tasks t SET priority = $2::int
FROM cases c
WHERE t.id = $1::bigint AND c.id = t.case_id
  AND t.state IN ('pending', 'reserved', 'assigned')
  AND EXISTS (SELECT 1 FROM contracts ct
                JOIN pools p ON p.id = ct.pool_id
                JOIN contract_case_types cc ON cc.contract_id = ct.id
               WHERE p.operator_id = $3 AND ct.tenant_id = t.tenant_id
                 AND cc.case_type = c.case_type)
RETURNING t.id, t.state
