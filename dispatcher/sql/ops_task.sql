-- Task $1 as an operator's action needs it: its state, its case, and
-- whether operator $2 serves it (a contract of one of its pools covers
-- the task's tenant and case type). No row: no such task.
-- columns: id, state, case_id, served
SELECT t.id, t.state, t.case_id,
       EXISTS (SELECT 1 FROM contracts ct
                 JOIN pools p ON p.id = ct.pool_id
                 JOIN contract_case_types cc ON cc.contract_id = ct.id
                WHERE p.operator_id = $2 AND ct.tenant_id = t.tenant_id
                  AND cc.case_type = c.case_type) AS served
FROM tasks t JOIN cases c ON c.id = t.case_id
WHERE t.id = $1::bigint
