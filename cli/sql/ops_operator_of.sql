-- The operator that would act on worker $1 (its pool's) or, for $1 = '',
-- the only operator there is: one row with the operator (or '') and how
-- many candidates there were.
-- columns: operator_id, candidates
SELECT COALESCE(min(o.id), '') AS operator_id, count(*) AS candidates
FROM operators o
WHERE ($1 = '' OR o.id = (SELECT p.operator_id FROM workers w
                          JOIN pools p ON p.id = w.pool_id
                          WHERE w.id = $1))
