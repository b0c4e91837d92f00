-- The cases of get requests (tenants $1, case ids $2 or 0, external ids
-- $3 or '') with their tasks and outcomes (docs/protocol.md, "Get a
-- case"), by request number (1-based). The customer and the personal
-- payload fields are in personal (sealed, hex; '' for none), opened and
-- merged into case_json by the dispatcher.
-- columns: n, id, personal, case_json
SELECT v.n, c.id, COALESCE(encode(c.personal, 'hex'), '') AS personal,
       json_build_object(
         'id', c.id, 'external_id', c.external_id, 'case_type', c.case_type,
         'state', c.state, 'priority', c.priority,
         'playbook_version', c.playbook_version,
         'created_at', c.created_at, 'closed_at', c.closed_at,
         'cancel_reason', c.cancel_reason,
         'customer', c.customer, 'payload', c.payload,
         'erased_at', c.erased_at,
         'tasks', COALESCE((SELECT json_agg(json_build_object(
                              'id', t.id, 'step', t.step, 'state', t.state,
                              'worker', t.worker_id,
                              'cancel_reason', t.cancel_reason,
                              'outcome', (SELECT json_build_object(
                                            'code', o.code,
                                            'fields', o.fields)
                                          FROM outcomes o
                                          WHERE o.task_id = t.id))
                            ORDER BY t.id)
                           FROM tasks t WHERE t.case_id = c.id),
                          '[]'::json))::text AS case_json
FROM unnest($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY
     AS v(tenant_id, case_id, external_id, n)
JOIN cases c ON c.tenant_id = v.tenant_id
 AND (c.id = v.case_id OR c.external_id = v.external_id)
