-- twinline worker list: the workers of pool $1 (NULL: all) of kind $2
-- (NULL: both) but those in $3 (an array of ids, NULL: none), with their
-- languages, skills ("skill:level", "(ai n)" where AI assistance raises
-- it) and capacity ("channel:slots").
-- columns: id, pool_id, name, kind, presence, quality, languages, skills, capacity
SELECT w.id, w.pool_id, w.name, w.kind, w.presence, w.quality,
       array_to_string(w.languages, ',') AS languages,
       COALESCE((SELECT string_agg(s.skill || ':' || s.level ||
                   CASE WHEN s.ai_level > s.level
                        THEN '(ai ' || s.ai_level || ')' ELSE '' END,
                   ' ' ORDER BY s.skill)
                   FROM worker_skills s WHERE s.worker_id = w.id), '')
         AS skills,
       COALESCE((SELECT string_agg(c.channel || ':' || c.slots, ' '
                   ORDER BY c.channel) FROM worker_capacity c
                  WHERE c.worker_id = w.id), '') AS capacity
  FROM workers w
 WHERE ($1::text IS NULL OR w.pool_id = $1)
   AND ($2::text IS NULL OR w.kind = $2)
   AND ($3::text[] IS NULL OR NOT (w.id = ANY ($3::text[])))
 ORDER BY w.id
