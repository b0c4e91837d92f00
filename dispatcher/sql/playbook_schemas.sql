-- The payload and customer schemas of playbook ($1 tenant, $2 case type,
-- $3 version) as JSON text, '' when it has none (docs/config.md).
-- columns: payload, customer
SELECT COALESCE((definition -> 'payload')::text, '') AS payload,
       COALESCE((definition -> 'customer')::text, '') AS customer
FROM playbooks
WHERE tenant_id = $1 AND case_type = $2 AND version = $3::int
