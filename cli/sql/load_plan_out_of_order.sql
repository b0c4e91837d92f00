-- twinline load: a version of contract $1's plan whose start is out of
-- version order with version $2 taking effect at $3 (no row: in order).
-- columns: version, effective_from_utc
SELECT version, to_char(effective_from AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS effective_from_utc FROM contract_plans
WHERE contract_id = $1 AND ((version < $2::int AND
    effective_from >= $3::timestamptz) OR (version > $2::int AND
    effective_from <= $3::timestamptz)) ORDER BY version LIMIT 1
