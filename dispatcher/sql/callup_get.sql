-- Call-up $1: its worker and state, and whether its deadline passed.
-- columns: worker_id, state, late
SELECT worker_id, state, deadline < now() AS late
FROM callups WHERE id = $1::bigint
