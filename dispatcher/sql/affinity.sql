-- The last worker of each open case of this dispatcher's partitions, for affinity.
-- columns: case_id, worker_id
SELECT DISTINCT ON (o.case_id) o.case_id, o.worker_id
FROM outcomes o
JOIN cases c ON c.id = o.case_id
WHERE c.state = 'open' AND c.tenant_id IN (SELECT ha_my_tenants())
ORDER BY o.case_id, o.id DESC
