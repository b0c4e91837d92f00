-- Per pool of the operator: how many workers are in each presence.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object(
           'pool', p.id,
           'offline', (SELECT count(*) FROM workers w WHERE w.pool_id = p.id AND w.presence = 'offline'),
           'available', (SELECT count(*) FROM workers w WHERE w.pool_id = p.id AND w.presence = 'available'),
           'break', (SELECT count(*) FROM workers w WHERE w.pool_id = p.id AND w.presence = 'break'),
           'lease_lost', (SELECT count(*) FROM workers w WHERE w.pool_id = p.id AND w.lease_lost))
           ORDER BY p.id), '[]')::text AS doc
  FROM pools p WHERE p.operator_id = $1::text
