-- twinline load: operator $1, written only when it changed.
INSERT INTO operators (id, name) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
WHERE operators.name IS DISTINCT FROM EXCLUDED.name
