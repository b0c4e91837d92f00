-- twinline load: worker $1 ($5 its languages as a JSON array), written
-- only when it changed.
INSERT INTO workers (id, pool_id, name, kind, languages, quality)
VALUES ($1, $2, $3, $4,
    ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6::int)
ON CONFLICT (id) DO UPDATE SET pool_id = EXCLUDED.pool_id,
    name = EXCLUDED.name, kind = EXCLUDED.kind,
    languages = EXCLUDED.languages, quality = EXCLUDED.quality
WHERE (workers.pool_id, workers.name, workers.kind,
    workers.languages, workers.quality) IS DISTINCT FROM
    (EXCLUDED.pool_id, EXCLUDED.name, EXCLUDED.kind,
    EXCLUDED.languages, EXCLUDED.quality)
