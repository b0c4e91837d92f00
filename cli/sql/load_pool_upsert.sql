-- twinline load: pool $1 of operator $2, written only when it changed.
INSERT INTO pools (id, operator_id, name) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET operator_id = EXCLUDED.operator_id,
    name = EXCLUDED.name
WHERE (pools.operator_id, pools.name)
    IS DISTINCT FROM (EXCLUDED.operator_id, EXCLUDED.name)
