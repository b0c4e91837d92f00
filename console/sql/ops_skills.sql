-- Per pool and skill of the operator: workers holding it (own level or
-- with the AI skill pack), online now, best and mean level.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object(
           'pool', x.pool_id, 'skill', x.skill, 'workers', x.workers,
           'online', x.online, 'max_level', x.max_level,
           'mean_level_permille', x.mean_level, 'ai_assisted', x.ai)
           ORDER BY x.pool_id, x.skill), '[]')::text AS doc
  FROM (SELECT w.pool_id, s.skill, count(*) AS workers,
               count(*) FILTER (WHERE w.presence <> 'offline') AS online,
               max(greatest(s.level, s.ai_level)) AS max_level,
               (1000 * avg(s.level))::int AS mean_level,
               count(*) FILTER (WHERE s.ai_level > s.level) AS ai
          FROM worker_skills s JOIN workers w ON w.id = s.worker_id
          JOIN pools p ON p.id = w.pool_id
         WHERE p.operator_id = $1::text
         GROUP BY w.pool_id, s.skill) x
