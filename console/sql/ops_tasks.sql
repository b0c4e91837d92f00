-- Tasks of the case types the operator serves, newest first: $2 one
-- state or '' for the open ones (pending, reserved, assigned, wrapping),
-- at most $3.
-- columns: doc
SELECT COALESCE(json_agg(x.j ORDER BY x.id DESC), '[]')::text AS doc
  FROM (SELECT t.id, json_build_object(
               'id', t.id, 'case_id', t.case_id, 'tenant', t.tenant_id,
               'case_type', c.case_type, 'step', t.step, 'state', t.state,
               'worker', t.worker_id, 'priority', COALESCE(t.priority, c.priority),
               'offers', t.offers, 'ready_at', t.ready_at,
               'sla_due_at', t.sla_due_at, 'assigned_at', t.assigned_at,
               'completed_at', t.completed_at,
               'wait_ms', CASE WHEN t.ready_at IS NULL THEN NULL ELSE
                   (extract(epoch FROM COALESCE(t.assigned_at, t.completed_at, now())
                            - t.ready_at) * 1000)::bigint END) AS j
          FROM tasks t JOIN cases c ON c.id = t.case_id
         WHERE (CASE WHEN $2::text = '' THEN t.state IN ('pending', 'reserved',
                     'assigned', 'wrapping') ELSE t.state = $2::text END)
           AND console_operator_serves($1::text, t.tenant_id, c.case_type)
         ORDER BY t.id DESC
         LIMIT $3::int) x
