-- Interval history of the operator's queues in [$3, $4), $2 one pool or
-- '' for all, with the pool's occupancy and workers online in the
-- interval (by channel).
-- columns: interval_start, pool, skill, channel, offered, accepted, handled, expired, answered_in_sl, threshold_s, wait_avg_ms, wait_p90_ms, sl_permille, aht_ms, occupancy_permille, online_avg
SELECT to_char(i.interval_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS interval_start,
       i.pool_id AS pool, i.skill, i.channel, i.offered, i.accepted, i.handled,
       i.expired, i.answered_in_sl, i.threshold_s,
       CASE WHEN i.accepted = 0 THEN NULL ELSE i.wait_sum_ms / i.accepted END AS wait_avg_ms,
       i.wait_p90_ms,
       CASE WHEN i.accepted + i.expired = 0 THEN NULL
            ELSE 1000 * i.answered_in_sl / (i.accepted + i.expired) END AS sl_permille,
       CASE WHEN i.handled = 0 THEN NULL ELSE i.handle_sum_ms / i.handled END AS aht_ms,
       CASE WHEN COALESCE(o.slots_sum, 0) = 0 THEN NULL
            ELSE (1000 * o.busy_sum / o.slots_sum)::int END AS occupancy_permille,
       CASE WHEN COALESCE(o.samples, 0) = 0 THEN NULL
            ELSE round(o.online_sum::numeric / o.samples, 2) END AS online_avg
  FROM console_intervals i
  JOIN pools p ON p.id = i.pool_id AND p.operator_id = $1::text
  LEFT JOIN console_occupancy o ON o.interval_start = i.interval_start
   AND o.pool_id = i.pool_id AND o.channel = i.channel
 WHERE ($2::text = '' OR i.pool_id = $2::text)
   AND i.interval_start >= $3::timestamptz AND i.interval_start < $4::timestamptz
 ORDER BY i.interval_start, i.pool_id, i.skill, i.channel
 LIMIT 20000
