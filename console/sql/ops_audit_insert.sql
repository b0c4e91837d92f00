-- Record an operator action with its reason and the dispatcher's reply.
-- columns: id
INSERT INTO console_audit (key_id, operator_id, action, target, reason,
                           request, reply)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)
RETURNING id
