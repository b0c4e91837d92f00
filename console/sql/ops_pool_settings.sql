-- Set a pool's staffing settings; NULL leaves a field as it is. No row
-- when the pool is not the operator's.
-- columns: pool_id
INSERT INTO console_pool_settings AS s (pool_id, threshold_s, target_permille,
    model, patience_s, shrinkage_permille, breach_minutes)
SELECT p.id, COALESCE($3::int, 20), COALESCE($4::int, 800),
       COALESCE($5::text, 'erlang_c'), COALESCE($6::int, 180),
       COALESCE($7::int, 0), COALESCE($8::int, 5)
  FROM pools p WHERE p.id = $2::text AND p.operator_id = $1::text
ON CONFLICT (pool_id) DO UPDATE SET
    threshold_s = COALESCE($3::int, s.threshold_s),
    target_permille = COALESCE($4::int, s.target_permille),
    model = COALESCE($5::text, s.model),
    patience_s = COALESCE($6::int, s.patience_s),
    shrinkage_permille = COALESCE($7::int, s.shrinkage_permille),
    breach_minutes = COALESCE($8::int, s.breach_minutes),
    updated_at = now()
RETURNING s.pool_id
