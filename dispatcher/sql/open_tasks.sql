-- Every open task of this dispatcher's partitions with what routing needs: its case, playbook and step,
-- priority, when it became ready (µs), its state and holder, when it was
-- completed (µs; wrap-ups run from then) and the workers its current
-- offers are pending with (a comma-separated list, first offer first).
-- columns: id, case_id, tenant_id, case_type, playbook_version, step, priority, ready_us, state, worker_id, completed_us, offered_to
SELECT t.id, t.case_id, c.tenant_id, c.case_type, c.playbook_version,
       t.step, COALESCE(t.priority, c.priority) AS priority,
       (extract(epoch FROM COALESCE(t.ready_at, t.created_at)) * 1e6)::bigint
         AS ready_us,
       t.state, COALESCE(t.worker_id, '') AS worker_id,
       (extract(epoch FROM COALESCE(t.completed_at, now())) * 1e6)::bigint
         AS completed_us,
       COALESCE((SELECT string_agg(r.worker_id, ',' ORDER BY r.id)
                 FROM reservations r
                 WHERE r.task_id = t.id AND r.epoch = t.epoch
                   AND r.state = 'pending'), '') AS offered_to
FROM tasks t
JOIN cases c ON c.id = t.case_id
WHERE t.state IN ('pending', 'reserved', 'assigned', 'wrapping')
  AND t.tenant_id IN (SELECT ha_my_tenants())
