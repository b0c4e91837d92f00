-- twinline feed: every (tenant, case type) that has a playbook.
-- columns: tenant_id, case_type
SELECT DISTINCT tenant_id, case_type FROM playbooks
 ORDER BY tenant_id, case_type
