-- twinline case erase: case $2 (or external id $3 when $2 is 0) of tenant
-- $1, locked, with its tasks still open (waiting, pending, reserved,
-- assigned).
-- columns: id, external_id, state, erased_at, open_tasks
SELECT c.id, c.external_id, c.state,
       COALESCE(to_char(c.erased_at, 'YYYY-MM-DD HH24:MI:SS TZ'), '')
         AS erased_at,
       (SELECT count(*) FROM tasks t WHERE t.case_id = c.id
          AND t.state IN ('waiting', 'pending', 'reserved', 'assigned'))
         AS open_tasks
FROM cases c
WHERE c.tenant_id = $1 AND (c.id = $2::bigint OR c.external_id = $3)
FOR UPDATE OF c
