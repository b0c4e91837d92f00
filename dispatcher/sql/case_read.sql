-- The cases (tenants $1, external ids $2) as a submit reply shows them
-- (docs/protocol.md, "Submit a case"), by request number (1-based).
-- columns: n, id, case_json
SELECT v.n, c.id,
       json_build_object('id', c.id, 'external_id', c.external_id,
                         'case_type', c.case_type, 'state', c.state,
                         'priority', c.priority,
                         'playbook_version', c.playbook_version,
                         'created_at', c.created_at,
                         'closed_at', c.closed_at)::text AS case_json
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY
     AS v(tenant_id, external_id, n)
JOIN cases c ON c.tenant_id = v.tenant_id AND c.external_id = v.external_id
