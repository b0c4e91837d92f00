-- One queue's history per interval for the forecast: every interval from
-- the first the rollup covered in the last $5 weeks up to the last rolled
-- one, with zeros where nothing happened, and the workers online.
-- columns: interval_start, offered, handled, handle_sum_ms, online_avg
WITH s AS (SELECT rolled_until FROM console_rollup_state),
r AS (SELECT greatest(
          (SELECT min(i.interval_start) FROM console_intervals i
            WHERE i.pool_id = $2::text AND i.skill = $3::text AND i.channel = $4::text),
          (SELECT rolled_until FROM s) - make_interval(weeks => $5::int)) AS lo,
        (SELECT rolled_until FROM s) AS hi)
SELECT extract(epoch FROM g.t)::bigint AS interval_start,
       COALESCE(i.offered, 0) AS offered, COALESCE(i.handled, 0) AS handled,
       COALESCE(i.handle_sum_ms, 0) AS handle_sum_ms,
       CASE WHEN COALESCE(o.samples, 0) = 0 THEN 0
            ELSE o.online_sum::float8 / o.samples END AS online_avg
  FROM r, generate_series(r.lo, r.hi - interval '15 minutes', interval '15 minutes') g(t)
  JOIN pools p ON p.id = $2::text AND p.operator_id = $1::text
  LEFT JOIN console_intervals i ON i.interval_start = g.t AND i.pool_id = $2::text
   AND i.skill = $3::text AND i.channel = $4::text
  LEFT JOIN console_occupancy o ON o.interval_start = g.t AND o.pool_id = $2::text
   AND o.channel = $4::text
 ORDER BY g.t
