-- twinline load: the outcome codes of the latest playbook of tenant $1's
-- case type $2, and whether any step bills each.
-- columns: code, billable
SELECT o.key AS code, bool_or((o.value->>'billable')::boolean) AS billable
FROM playbook_steps AS s, jsonb_each(s.outcomes) AS o
WHERE s.tenant_id = $1 AND s.case_type = $2 AND s.version =
(SELECT max(version) FROM playbooks
WHERE tenant_id = $1 AND case_type = $2)
GROUP BY o.key
