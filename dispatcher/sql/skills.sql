-- The skills of every worker of this dispatcher's partitions: the level alone and the level with AI assist.
-- columns: worker_id, skill, level, ai_level
SELECT worker_id, skill, level, ai_level FROM worker_skills
WHERE worker_id IN (SELECT id FROM workers
                    WHERE pool_id IN (SELECT ha_my_pools()))
