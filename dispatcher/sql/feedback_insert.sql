-- Store the assist panel's feedback events (kinds $7, suggestions $8,
-- actions $9) for reservation $1 of task $2 (tenant $3, case type $4,
-- step $5) held by worker $6; each (reservation, suggestion, action) once.
-- columns: stored
WITH v AS (
  SELECT * FROM unnest($7::text[], $8::text[], $9::text[])
           AS v(kind, suggestion, action)),
i AS (
  INSERT INTO assist_feedback (reservation_id, task_id, tenant_id,
                               case_type, step, worker_id, kind, suggestion,
                               action)
  SELECT $1::bigint, $2::bigint, $3, $4, $5, $6, v.kind, v.suggestion,
         v.action
  FROM v
  ON CONFLICT (reservation_id, suggestion, action) DO NOTHING
  RETURNING 1)
SELECT count(*) AS stored FROM i
