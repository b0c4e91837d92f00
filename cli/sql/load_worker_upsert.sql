-- twinline load: worker $1 ($5 its languages as a JSON array, $7 whether
-- it is on call for the elastic call-up), written only when it changed.
INSERT INTO workers (id, pool_id, name, kind, languages, quality, on_call)
VALUES ($1, $2, $3, $4,
    ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6::int, $7::boolean)
ON CONFLICT (id) DO UPDATE SET pool_id = EXCLUDED.pool_id,
    name = EXCLUDED.name, kind = EXCLUDED.kind,
    languages = EXCLUDED.languages, quality = EXCLUDED.quality,
    on_call = EXCLUDED.on_call
WHERE (workers.pool_id, workers.name, workers.kind,
    workers.languages, workers.quality, workers.on_call) IS DISTINCT FROM
    (EXCLUDED.pool_id, EXCLUDED.name, EXCLUDED.kind,
    EXCLUDED.languages, EXCLUDED.quality, EXCLUDED.on_call)
