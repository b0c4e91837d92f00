-- AI workers' outcomes in the operator's pools in the month [$2, $3): decided alone
-- (no review), sent to review (and why), confirmed, overturned, pending.
-- columns: doc
WITH a AS (
    SELECT o.id, o.review, r.reason, r.state
      FROM outcomes o JOIN workers w ON w.id = o.worker_id
      JOIN pools p ON p.id = w.pool_id
      LEFT JOIN ai_reviews r ON r.outcome_id = o.id
     WHERE p.operator_id = $1::text AND w.kind = 'ai'
       AND o.created_at >= $2::timestamptz AND o.created_at < $3::timestamptz)
SELECT json_build_object(
    'since', $2::timestamptz, 'until', $3::timestamptz,
    'outcomes', count(*),
    'alone', count(*) FILTER (WHERE a.review IS NULL),
    'reviewed', count(*) FILTER (WHERE a.review IS NOT NULL),
    'low_confidence', count(*) FILTER (WHERE a.reason = 'low_confidence'),
    'sample', count(*) FILTER (WHERE a.reason = 'sample'),
    'pending', count(*) FILTER (WHERE a.review = 'pending'),
    'confirmed', count(*) FILTER (WHERE a.review = 'confirmed'),
    'overturned', count(*) FILTER (WHERE a.review = 'overturned'),
    'alone_permille', CASE WHEN count(*) = 0 THEN NULL
        ELSE 1000 * count(*) FILTER (WHERE a.review IS NULL) / count(*) END,
    'overturned_permille', CASE WHEN count(*) FILTER (WHERE a.review IN
        ('confirmed', 'overturned')) = 0 THEN NULL
        ELSE 1000 * count(*) FILTER (WHERE a.review = 'overturned')
             / count(*) FILTER (WHERE a.review IN ('confirmed', 'overturned')) END
    )::text AS doc
  FROM a
