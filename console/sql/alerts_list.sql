-- The operator's open alerts and those closed in the last hour.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object('id', a.id, 'kind', a.kind,
           'subject', a.subject, 'details', a.details, 'opened_at', a.opened_at,
           'closed_at', a.closed_at, 'open', a.closed_at IS NULL)
           ORDER BY a.closed_at IS NULL DESC, a.id DESC), '[]')::text AS doc
  FROM console_alerts a
 WHERE a.operator_id = $1::text
   AND (a.closed_at IS NULL OR a.closed_at > now() - interval '1 hour')
