-- Tasks the database has had pending for over 15 s: the router should
-- hold them as pending too (dsp_reconcile).
-- columns: id, case_id, tenant_id, case_type, playbook_version, step, priority, ready_us
SELECT t.id, t.case_id, c.tenant_id, c.case_type, c.playbook_version,
       t.step, COALESCE(t.priority, c.priority) AS priority,
       (extract(epoch FROM t.ready_at) * 1e6)::bigint AS ready_us
FROM tasks t
JOIN cases c ON c.id = t.case_id
WHERE t.state = 'pending' AND t.ready_at < now() - interval '15 s'
  AND t.tenant_id IN (SELECT ha_my_tenants())
ORDER BY t.ready_at
LIMIT 1000
