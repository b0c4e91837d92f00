-- Make the waiting tasks in $1 ready, their SLA running from now.
-- columns: id, case_id, step, ready_us, tenant_id, case_type, playbook_version, priority
UPDATE tasks t
SET state = 'pending', ready_at = now(),
    sla_due_at = now() + make_interval(secs => s.sla_seconds)
FROM cases c, playbook_steps s
WHERE t.id = ANY($1::bigint[]) AND t.state = 'waiting'
  AND c.id = t.case_id AND s.tenant_id = c.tenant_id
  AND s.case_type = c.case_type AND s.version = c.playbook_version
  AND s.step = t.step
RETURNING t.id, t.case_id, t.step,
          (extract(epoch FROM t.ready_at) * 1e6)::bigint AS ready_us,
          c.tenant_id, c.case_type, c.playbook_version, c.priority
