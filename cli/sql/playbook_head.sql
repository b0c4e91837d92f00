-- twinline playbook show: the latest version of tenant $1's playbook for
-- case type $2 (no row: none).
-- columns: version, name
SELECT version, name FROM playbooks
 WHERE tenant_id = $1 AND case_type = $2 ORDER BY version DESC LIMIT 1
