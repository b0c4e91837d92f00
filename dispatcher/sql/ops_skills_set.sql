-- Worker $1's skills $2 at levels $3 and AI-assisted levels $4.
-- columns: skill
INSERT INTO worker_skills (worker_id, skill, level, ai_level)
SELECT $1, s, l, a
FROM unnest($2::text[], $3::int[], $4::int[]) AS x(s, l, a)
RETURNING skill
