-- What staffing a queue needs besides its history: the pool's settings,
-- the mean slots its workers have on the channel, and the workers of
-- the pool online now. No row: not the operator's pool.
-- columns: threshold_s, target_permille, model, patience_s, shrinkage_permille, slots, online_now, rolled_until
SELECT COALESCE(s.threshold_s, 20) AS threshold_s,
       COALESCE(s.target_permille, 800) AS target_permille,
       COALESCE(s.model, 'erlang_c') AS model,
       COALESCE(s.patience_s, 180) AS patience_s,
       COALESCE(s.shrinkage_permille, 0) AS shrinkage_permille,
       COALESCE((SELECT round(avg(c.slots))::int FROM worker_capacity c
                   JOIN workers w ON w.id = c.worker_id
                  WHERE w.pool_id = p.id AND c.channel = $3::text AND c.slots > 0), 1) AS slots,
       (SELECT count(*) FROM workers w WHERE w.pool_id = p.id
           AND w.presence = 'available') AS online_now,
       (SELECT extract(epoch FROM rolled_until)::bigint FROM console_rollup_state) AS rolled_until
  FROM pools p LEFT JOIN console_pool_settings s ON s.pool_id = p.id
 WHERE p.id = $2::text AND p.operator_id = $1::text
