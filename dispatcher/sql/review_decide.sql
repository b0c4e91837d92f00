-- Record the verdicts of the finished review tasks in $1: confirmed when
-- the reviewer confirmed or overturned to the AI's own code, else
-- overturned with the replacement code.
-- columns: id
WITH r AS (
  SELECT ar.outcome_id,
         CASE WHEN ro.code = 'confirmed' OR ro.fields->>'code' = ao.code
              THEN 'confirmed' ELSE 'overturned' END AS verdict,
         ro.fields->>'code' AS repl
  FROM ai_reviews ar
  JOIN outcomes ro ON ro.task_id = ar.review_task_id
  JOIN outcomes ao ON ao.id = ar.outcome_id
  WHERE ar.review_task_id = ANY($1::bigint[]) AND ar.state = 'pending'),
u AS (
  UPDATE ai_reviews
  SET state = r.verdict, decided_at = now(),
      replacement = CASE WHEN r.verdict = 'overturned' THEN r.repl END
  FROM r WHERE ai_reviews.outcome_id = r.outcome_id
  RETURNING ai_reviews.outcome_id, ai_reviews.state)
UPDATE outcomes SET review = u.state
FROM u WHERE outcomes.id = u.outcome_id
RETURNING outcomes.id
