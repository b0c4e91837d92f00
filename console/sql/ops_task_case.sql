-- The case of a task the operator's priority change names, when the
-- operator serves it.
-- columns: case_id
SELECT t.case_id FROM tasks t JOIN cases c ON c.id = t.case_id
 WHERE t.id = $2::bigint
   AND console_operator_serves($1::text, t.tenant_id, c.case_type)
