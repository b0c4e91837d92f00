-- twinline assist report: the AI workers' outcomes per tenant and step and
-- how their human reviews went, for tenant $1 ('' for all).
-- columns: tenant_id, step, outcomes, reviewed, confirmed, overturned, pending
SELECT o.tenant_id, t.step, count(*) AS outcomes,
       count(r.outcome_id) AS reviewed,
       count(*) FILTER (WHERE o.review = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE o.review = 'overturned') AS overturned,
       count(*) FILTER (WHERE o.review = 'pending') AS pending
  FROM outcomes o JOIN tasks t ON t.id = o.task_id
  JOIN workers w ON w.id = o.worker_id AND w.kind = 'ai'
  LEFT JOIN ai_reviews r ON r.outcome_id = o.id
 WHERE $1 = '' OR o.tenant_id = $1
 GROUP BY o.tenant_id, t.step ORDER BY o.tenant_id, t.step
