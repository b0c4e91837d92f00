-- twinline load: a step's routing configuration (schema/004), stored
-- exactly as the dispatcher reads it: licence ('' none), relaxation rings,
-- TTL ('0' none).
UPDATE playbook_steps SET licence = NULLIF($5, ''),
    rings = $6::jsonb, ttl_seconds = NULLIF($7, '0')::int
WHERE tenant_id = $1 AND case_type = $2 AND version = $3::int
    AND step = $4
