-- twinline case show: the case of tenant $1 by the bank's external id $2 (case_by_id.sql
-- and case_by_external_id.sql differ only in the key). Times as
-- "YYYY-MM-DD HH24:MI:SS.MS" in the tenant's time zone (time_zone);
-- closed_at and resolve_s are '' while open.
-- columns: id, external_id, case_type, playbook_version, priority, state, created_at, closed_at, resolve_s, payload, time_zone
SELECT c.id, c.external_id, c.case_type, c.playbook_version, c.priority,
       c.state,
       to_char(c.created_at AT TIME ZONE t.time_zone,
               'YYYY-MM-DD HH24:MI:SS.MS') AS created_at,
       COALESCE(to_char(c.closed_at AT TIME ZONE t.time_zone,
                        'YYYY-MM-DD HH24:MI:SS.MS'), '') AS closed_at,
       COALESCE(round(extract(epoch FROM c.closed_at - c.created_at),
                      3)::text, '') AS resolve_s,
       c.payload::text AS payload, t.time_zone
  FROM cases c JOIN tenants t ON t.id = c.tenant_id
 WHERE c.tenant_id = $1 AND c.external_id = $2
