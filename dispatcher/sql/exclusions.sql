-- Workers that may not get an open task again (they rejected it or let
-- its offer time out).
-- columns: task_id, worker_id
SELECT x.task_id, x.worker_id
FROM task_exclusions x
JOIN tasks t ON t.id = x.task_id
WHERE t.state IN ('pending', 'reserved', 'assigned')
  AND t.tenant_id IN (SELECT ha_my_tenants())
