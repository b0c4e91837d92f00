-- twinline assist report: the assistant's suggestions per tenant, step and
-- kind, for tenant $1 ('' for all). A suggestion counts once per
-- reservation and action (the table's unique key); accepted means copied or
-- used.
-- columns: tenant_id, step, kind, shown, opened, copied, used, accepted
SELECT tenant_id, step, kind,
       count(*) FILTER (WHERE action = 'shown') AS shown,
       count(*) FILTER (WHERE action = 'opened') AS opened,
       count(*) FILTER (WHERE action = 'copied') AS copied,
       count(*) FILTER (WHERE action = 'used') AS used,
       (SELECT count(*) FROM (SELECT DISTINCT reservation_id, suggestion
          FROM assist_feedback a WHERE a.tenant_id = f.tenant_id
          AND a.step = f.step AND a.kind = f.kind
          AND a.action IN ('copied', 'used')) x) AS accepted
  FROM assist_feedback f WHERE $1 = '' OR tenant_id = $1
 GROUP BY tenant_id, step, kind ORDER BY tenant_id, step, kind
