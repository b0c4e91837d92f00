-- A case's timeline for an operator who serves it: its tasks, each with
-- its offers (reservations), the routing decision behind each offer (what
-- twinline explain prints) and its outcome, and the bank's disputes. The
-- customer's personal data is not included. No row: not found or not
-- served by the operator.
-- columns: doc
SELECT json_build_object(
           'id', c.id, 'tenant', c.tenant_id, 'external_id', c.external_id,
           'case_type', c.case_type, 'playbook_version', c.playbook_version,
           'priority', c.priority, 'state', c.state,
           'created_at', c.created_at, 'closed_at', c.closed_at,
           'cancel_reason', c.cancel_reason,
           'tasks', (SELECT COALESCE(json_agg(json_build_object(
               'id', t.id, 'step', t.step, 'state', t.state, 'worker', t.worker_id,
               'epoch', t.epoch, 'offers', t.offers, 'created_at', t.created_at,
               'ready_at', t.ready_at, 'assigned_at', t.assigned_at,
               'completed_at', t.completed_at, 'sla_due_at', t.sla_due_at,
               'cancel_reason', t.cancel_reason,
               'reservations', (SELECT COALESCE(json_agg(json_build_object(
                   'id', r.id, 'worker', r.worker_id, 'epoch', r.epoch,
                   'state', r.state, 'created_at', r.created_at,
                   'answered_at', r.answered_at, 'reason', r.reason,
                   'decision', (SELECT json_build_object('rule', d.rule,
                       'ring', d.ring, 'waited_ms', d.waited_ms,
                       'priority', d.priority, 'examined', d.examined,
                       'candidates', d.candidates, 'filtered', d.filtered)
                       FROM routing_decisions d WHERE d.reservation_id = r.id
                       ORDER BY d.id LIMIT 1))
                   ORDER BY r.id), '[]')
                   FROM reservations r WHERE r.task_id = t.id),
               'outcome', (SELECT json_build_object('id', o.id, 'code', o.code,
                   'fields', o.fields, 'billable', o.billable,
                   'confidence', o.confidence, 'review', o.review,
                   'created_at', o.created_at)
                   FROM outcomes o WHERE o.task_id = t.id))
               ORDER BY t.id), '[]') FROM tasks t WHERE t.case_id = c.id),
           'disputes', (SELECT COALESCE(json_agg(json_build_object('id', x.id,
               'kind', x.kind, 'reason', x.reason, 'created_at', x.created_at)
               ORDER BY x.id), '[]') FROM case_disputes x WHERE x.case_id = c.id)
       )::text AS doc
  FROM cases c
 WHERE c.id = $2::bigint
   AND console_operator_serves($1::text, c.tenant_id, c.case_type)
