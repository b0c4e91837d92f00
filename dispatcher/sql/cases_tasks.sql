-- Every task of the cases in $1 with its outcome code ('' when none) and
-- the case's playbook and priority, case by case.
-- columns: case_id, task_id, step, state, code, tenant_id, case_type, playbook_version, priority
SELECT c.id AS case_id, t.id AS task_id, t.step, t.state,
       COALESCE((SELECT o.code FROM outcomes o WHERE o.task_id = t.id), '')
         AS code,
       c.tenant_id, c.case_type, c.playbook_version, c.priority
FROM cases c
JOIN tasks t ON t.case_id = c.id
WHERE c.id = ANY($1::bigint[])
ORDER BY c.id, t.id
