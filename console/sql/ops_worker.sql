-- One of the operator's workers with skills, capacity and licences; no
-- row when it is not the operator's.
-- columns: doc
SELECT json_build_object(
           'id', w.id, 'pool', w.pool_id, 'name', w.name, 'kind', w.kind,
           'presence', w.presence, 'quality', w.quality,
           'languages', to_json(w.languages), 'last_seen', w.last_seen,
           'skills', (SELECT COALESCE(json_object_agg(s.skill, json_build_object(
                          'level', s.level, 'ai_level', s.ai_level)), '{}')
                        FROM worker_skills s WHERE s.worker_id = w.id),
           'capacity', (SELECT COALESCE(json_object_agg(c.channel, c.slots), '{}')
                          FROM worker_capacity c WHERE c.worker_id = w.id),
           'licences', (SELECT COALESCE(json_agg(json_build_object(
                            'code', l.code, 'expires_on', l.expires_on)
                            ORDER BY l.code), '[]')
                          FROM worker_licences l WHERE l.worker_id = w.id))::text AS doc
  FROM workers w JOIN pools p ON p.id = w.pool_id
 WHERE p.operator_id = $1::text AND w.id = $2::text
