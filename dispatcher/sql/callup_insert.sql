-- Invite worker $1 of operator $2's pool $3 for skill $4: the staffing
-- figure $5 and the workers online $6 that decided it, reason $7, an
-- answer due in $8 seconds.
-- columns: id, deadline_ms
INSERT INTO callups (operator_id, pool_id, worker_id, skill, required,
                     online, reason, deadline)
VALUES ($2, $3, $1, $4, $5::int, $6::int, $7,
        now() + $8::int * interval '1 second')
RETURNING id, (extract(epoch FROM deadline) * 1000)::bigint AS deadline_ms
