-- twinline tenant list: every tenant with its number of case types that
-- have a playbook and of active contracts.
-- columns: id, name, kind, priority, playbooks, contracts
SELECT t.id, t.name, t.kind, t.priority,
       (SELECT count(DISTINCT case_type) FROM playbooks p
         WHERE p.tenant_id = t.id) AS playbooks,
       (SELECT count(*) FROM contracts c
         WHERE c.tenant_id = t.id AND c.active) AS contracts
  FROM tenants t ORDER BY t.id
