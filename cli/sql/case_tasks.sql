-- twinline case show: the tasks of case $1, dates and times in the
-- tenant's time zone, '' where not yet.
-- columns: id, step, state, worker_id, offers, epoch, ready_at, assigned_at, completed_at, sla_due_at
SELECT t.id, t.step, t.state, COALESCE(t.worker_id, '') AS worker_id,
       t.offers, t.epoch,
       COALESCE(to_char(t.ready_at AT TIME ZONE n.time_zone,
                        'YYYY-MM-DD HH24:MI:SS'), '') AS ready_at,
       COALESCE(to_char(t.assigned_at AT TIME ZONE n.time_zone,
                        'YYYY-MM-DD HH24:MI:SS'), '') AS assigned_at,
       COALESCE(to_char(t.completed_at AT TIME ZONE n.time_zone,
                        'YYYY-MM-DD HH24:MI:SS'), '') AS completed_at,
       COALESCE(to_char(t.sla_due_at AT TIME ZONE n.time_zone,
                        'YYYY-MM-DD HH24:MI:SS'), '') AS sla_due_at
  FROM tasks t JOIN tenants n ON n.id = t.tenant_id
 WHERE t.case_id = $1::bigint ORDER BY t.id
