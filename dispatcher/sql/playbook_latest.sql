-- Whether tenant $1 exists and the latest version of its playbook for
-- case type $2 (NULL: none).
-- columns: tenant_exists, version
SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1) AS tenant_exists,
       (SELECT max(version) FROM playbooks
        WHERE tenant_id = $1 AND case_type = $2) AS version
