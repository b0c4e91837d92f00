-- The tasks of the new cases $1, one per step of each case's playbook:
-- a step without `after` is pending (ready now, its SLA running), the
-- others wait.
-- columns: id, case_id, step, state, ready_us
INSERT INTO tasks (case_id, tenant_id, step, state, ready_at, sla_due_at)
SELECT c.id, c.tenant_id, s.step,
       CASE WHEN cardinality(s.after_steps) = 0 THEN 'pending'
            ELSE 'waiting' END,
       CASE WHEN cardinality(s.after_steps) = 0 THEN now() END,
       CASE WHEN cardinality(s.after_steps) = 0
            THEN now() + make_interval(secs => s.sla_seconds) END
FROM cases c
JOIN playbook_steps s ON s.tenant_id = c.tenant_id
 AND s.case_type = c.case_type AND s.version = c.playbook_version
WHERE c.id = ANY($1::bigint[])
ORDER BY c.id, s.ordinal
RETURNING id, case_id, step, state,
          (extract(epoch FROM ready_at) * 1e6)::bigint AS ready_us
