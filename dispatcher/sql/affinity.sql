-- The last worker of each open case, for affinity.
-- columns: case_id, worker_id
SELECT DISTINCT ON (o.case_id) o.case_id, o.worker_id
FROM outcomes o
JOIN cases c ON c.id = o.case_id
WHERE c.state = 'open'
ORDER BY o.case_id, o.id DESC
