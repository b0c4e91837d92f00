-- The task of each reservation in $1 as the worker who accepted it sees
-- it (docs/protocol.md, "Accept"): ids, the case's customer and payload,
-- the case's history of outcomes and the step's outcomes, as JSON text.
-- The customer and the personal payload fields are in personal (sealed,
-- hex; '' for none), opened and merged into task by the dispatcher.
-- columns: reservation_id, case_id, tenant_id, personal, task
-- Each reservation is looked up on its own (LATERAL ... OFFSET 0: one
-- row by primary key, then its task and case by theirs), so the plan never
-- depends on how large the tables were when it was made.
SELECT v.reservation_id, v.case_id, v.tenant_id, v.personal, v.task
FROM unnest($1::bigint[]) AS q(id)
CROSS JOIN LATERAL (
SELECT r.id AS reservation_id, c.id AS case_id, c.tenant_id,
       COALESCE(encode(c.personal, 'hex'), '') AS personal,
       json_build_object(
         'reservation_id', r.id, 'epoch', r.epoch, 'task_id', t.id,
         'case_id', c.id, 'tenant', c.tenant_id, 'case_type', c.case_type,
         'step', t.step, 'channel', s.channel, 'external_id', c.external_id,
         'priority', c.priority, 'customer', c.customer,
         'payload', c.payload, 'erased_at', c.erased_at,
         'history', COALESCE((SELECT json_agg(json_build_object(
                                 'step', t2.step, 'worker', o.worker_id,
                                 'code', o.code, 'fields', o.fields)
                               ORDER BY o.id)
                              FROM outcomes o
                              JOIN tasks t2 ON t2.id = o.task_id
                              WHERE o.case_id = c.id), '[]'::json),
         'outcomes', s.outcomes)::text AS task
FROM reservations r
JOIN tasks t ON t.id = r.task_id
JOIN cases c ON c.id = t.case_id
JOIN playbook_steps s ON s.tenant_id = c.tenant_id
 AND s.case_type = c.case_type AND s.version = c.playbook_version
 AND s.step = t.step
WHERE r.id = q.id
OFFSET 0) v
