-- The operator's pools with their workers online and staffing settings.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object(
           'id', p.id, 'name', p.name,
           'workers', (SELECT count(*) FROM workers w WHERE w.pool_id = p.id),
           'online', (SELECT count(*) FROM workers w
                       WHERE w.pool_id = p.id AND w.presence <> 'offline'),
           'ai_workers', (SELECT count(*) FROM workers w
                           WHERE w.pool_id = p.id AND w.kind = 'ai'),
           'settings', json_build_object(
               'threshold_s', COALESCE(s.threshold_s, 20),
               'target_permille', COALESCE(s.target_permille, 800),
               'model', COALESCE(s.model, 'erlang_c'),
               'patience_s', COALESCE(s.patience_s, 180),
               'shrinkage_permille', COALESCE(s.shrinkage_permille, 0),
               'breach_minutes', COALESCE(s.breach_minutes, 5)))
           ORDER BY p.id), '[]')::text AS doc
  FROM pools p LEFT JOIN console_pool_settings s ON s.pool_id = p.id
 WHERE p.operator_id = $1::text
