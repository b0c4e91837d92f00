-- twinline case show: the case of tenant $1 by the bank's external id $2 (case_by_id.sql
-- and case_by_external_id.sql differ only in the key). Times as
-- "YYYY-MM-DD HH24:MI:SS.MS"; closed_at and resolve_s are '' while open.
-- columns: id, external_id, case_type, playbook_version, priority, state, created_at, closed_at, resolve_s, payload
SELECT id, external_id, case_type, playbook_version, priority, state,
       to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.MS') AS created_at,
       COALESCE(to_char(closed_at, 'YYYY-MM-DD HH24:MI:SS.MS'), '')
         AS closed_at,
       COALESCE(round(extract(epoch FROM closed_at - created_at), 3)::text,
                '') AS resolve_s,
       payload::text AS payload
  FROM cases WHERE tenant_id = $1 AND external_id = $2
