-- Per queue (tenant, case type, step): waiting and in progress, the
-- oldest wait (ms), and the tasks done in the last 24 h with an SLA and
-- within it.
-- columns: tenant_id, case_type, step, waiting, in_progress, oldest_wait_ms, sla_done, sla_met
SELECT t.tenant_id, c.case_type, t.step,
       count(*) FILTER (WHERE t.state = 'pending') AS waiting,
       count(*) FILTER (WHERE t.state IN ('reserved', 'assigned'))
         AS in_progress,
       COALESCE((extract(epoch FROM now() - min(t.ready_at)
                 FILTER (WHERE t.state = 'pending')) * 1000)::bigint, 0)
         AS oldest_wait_ms,
       count(*) FILTER (WHERE t.state IN ('completed', 'wrapping')
                          AND t.sla_due_at IS NOT NULL) AS sla_done,
       count(*) FILTER (WHERE t.state IN ('completed', 'wrapping')
                          AND t.completed_at <= t.sla_due_at) AS sla_met
FROM tasks t
JOIN cases c ON c.id = t.case_id
WHERE t.state IN ('pending', 'reserved', 'assigned')
   OR (t.state IN ('completed', 'wrapping')
       AND t.completed_at > now() - interval '24 hours')
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
