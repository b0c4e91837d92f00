-- What the dispatcher knows of each reservation in $1: its worker, epoch
-- and state, its task, case and step, the case's tenant, type, playbook
-- version and priority, and the outcome recorded with it (NULL: none).
-- columns: worker_id, epoch, state, task_id, case_id, step, tenant_id, case_type, playbook_version, priority, outcome_id, billable, reservation_id
SELECT r.worker_id, r.epoch, r.state, t.id AS task_id, t.case_id, t.step,
       c.tenant_id, c.case_type, c.playbook_version, c.priority,
       o.id AS outcome_id, o.billable, r.id AS reservation_id
FROM reservations r
JOIN tasks t ON t.id = r.task_id
JOIN cases c ON c.id = t.case_id
LEFT JOIN outcomes o ON o.reservation_id = r.id
WHERE r.id = ANY($1::bigint[])
