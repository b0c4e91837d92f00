-- twinline case show: the tasks of case $1, times of day (the date is in
-- the header), '' where not yet.
-- columns: id, step, state, worker_id, offers, epoch, ready_at, assigned_at, completed_at, sla_due_at
SELECT t.id, t.step, t.state, COALESCE(t.worker_id, '') AS worker_id,
       t.offers, t.epoch,
       COALESCE(to_char(t.ready_at, 'HH24:MI:SS.MS'), '') AS ready_at,
       COALESCE(to_char(t.assigned_at, 'HH24:MI:SS.MS'), '') AS assigned_at,
       COALESCE(to_char(t.completed_at, 'HH24:MI:SS.MS'), '')
         AS completed_at,
       COALESCE(to_char(t.sla_due_at, 'HH24:MI:SS.MS'), '') AS sla_due_at
  FROM tasks t WHERE t.case_id = $1::bigint ORDER BY t.id
