-- Candidates for the sweeper: up to $3 billable outcomes with id > $1,
-- older than $2 ms, that have no billable line, in id order. They are
-- normally few (the event path bills within milliseconds), so the
-- anti-join is cheap in rows returned; it scans outcomes, see
-- docs/billing.md for the limits.
-- columns: id
SELECT o.id
  FROM outcomes o
 WHERE o.billable AND o.id > $1::bigint
   -- issue 5 (AI review): not while under review, never overturned.
   AND (o.review IS NULL OR o.review = 'confirmed')
   AND o.created_at < now() - $2::bigint * interval '1 millisecond'
   AND NOT EXISTS (SELECT 1 FROM billable_lines b WHERE b.outcome_id = o.id)
 ORDER BY o.id
 LIMIT $3::int
