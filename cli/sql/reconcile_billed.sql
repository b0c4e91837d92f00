-- twinline bill reconcile, one check of eight (every reconcile_*.sql takes
-- $1 tenant or NULL, $2/$3 the period's bounds or NULL, $4 the period
-- "YYYY-MM" or NULL, and returns rows (tenant, currency, expected, found);
-- a row whose two figures differ is a mismatch. Outcomes are scoped by
-- their time, documents by their period. A statement that does not use a
-- parameter still names it ("$n IS NOT DISTINCT FROM $n") so that
-- PostgreSQL can type all four.)
-- Each billable outcome that may be billed (not under review, not
-- overturned) has its line.
-- columns: tenant_id, currency, expected, found
SELECT o.tenant_id, '-' AS currency, count(*) AS expected,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM billable_lines l
         WHERE l.outcome_id = o.id)) AS found
  FROM outcomes o WHERE o.billable
   AND (o.review IS NULL OR o.review = 'confirmed')
   AND $4::text IS NOT DISTINCT FROM $4
   AND ($1::text IS NULL OR o.tenant_id = $1)
   AND ($2::timestamptz IS NULL OR o.created_at >= $2)
   AND ($3::timestamptz IS NULL OR o.created_at < $3)
 GROUP BY 1 ORDER BY o.tenant_id COLLATE "C"
