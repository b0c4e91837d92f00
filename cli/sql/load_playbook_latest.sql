-- twinline load: the latest version of tenant $1's playbook for case
-- type $2 and whether its definition is $3 (no row: none yet).
-- columns: version, same
SELECT version, definition = $3::jsonb AS same FROM playbooks
WHERE tenant_id = $1 AND case_type = $2
ORDER BY version DESC LIMIT 1
