-- twinline bill report: is billing running, and is it behind? The
-- sessions twinline-billing holds on this database (it names its
-- connections, billing/sql/service_identify.sql), and the billable
-- outcomes of tenant $1 (all when NULL) in [$2, $3) (all time when NULL)
-- that are older than 5 s and still have no billable line (billing bills
-- within a second; its sweeper catches up what is older).
-- columns: billing_sessions, unbilled, oldest_unbilled
SELECT (SELECT count(*) FROM pg_stat_activity
         WHERE application_name = 'twinline-billing'
           AND datname = current_database()) AS billing_sessions,
       count(*) AS unbilled,
       coalesce(to_char(min(o.created_at) AT TIME ZONE 'UTC',
                        'YYYY-MM-DD HH24:MI:SS'), '') AS oldest_unbilled
  FROM outcomes o
 WHERE o.billable AND (o.review IS NULL OR o.review = 'confirmed')
   AND o.created_at < now() - interval '5 seconds'
   AND ($1::text IS NULL OR o.tenant_id = $1)
   AND ($2::timestamptz IS NULL OR o.created_at >= $2)
   AND ($3::timestamptz IS NULL OR o.created_at < $3)
   AND NOT EXISTS (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id)
