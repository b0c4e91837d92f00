-- twinline report: the whole system's figures in one row. A transfer is a
-- completed task of a closed case done by another worker than the task
-- completed before it; a one-contact case had a single worker.
-- columns: cases, closed, canceled, open, closed_tasks, transfers, one_contact, tasks_completed, offers, sla_tasks, sla_met, resolve_p50_s, resolve_p90_s
WITH closed AS (
  SELECT id, created_at, closed_at FROM cases WHERE state = 'closed'
), done AS (
  SELECT t.case_id, t.worker_id, lag(t.worker_id) OVER (
    PARTITION BY t.case_id ORDER BY t.completed_at, t.id) AS prev
  FROM tasks t JOIN closed c ON c.id = t.case_id
  WHERE t.state = 'completed'
), per_case AS (
  SELECT case_id, count(*) AS n, count(DISTINCT worker_id) AS workers,
    count(*) FILTER (WHERE prev IS NOT NULL AND prev <> worker_id)
      AS transfers
  FROM done GROUP BY case_id
) SELECT
  (SELECT count(*) FROM cases) AS cases,
  (SELECT count(*) FROM closed) AS closed,
  (SELECT count(*) FROM cases WHERE state = 'canceled') AS canceled,
  (SELECT count(*) FROM cases WHERE state = 'open') AS open,
  (SELECT COALESCE(sum(n), 0) FROM per_case) AS closed_tasks,
  (SELECT COALESCE(sum(transfers), 0) FROM per_case) AS transfers,
  (SELECT count(*) FROM per_case WHERE workers = 1) AS one_contact,
  (SELECT count(*) FROM tasks WHERE state = 'completed') AS tasks_completed,
  (SELECT count(*) FROM reservations r JOIN tasks t
     ON t.id = r.task_id WHERE t.state = 'completed') AS offers,
  (SELECT count(*) FROM tasks WHERE state = 'completed'
     AND sla_due_at IS NOT NULL) AS sla_tasks,
  (SELECT count(*) FROM tasks WHERE state = 'completed'
     AND completed_at <= sla_due_at) AS sla_met,
  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY
     extract(epoch FROM closed_at - created_at)) FROM closed)
    AS resolve_p50_s,
  (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY
     extract(epoch FROM closed_at - created_at)) FROM closed)
    AS resolve_p90_s
