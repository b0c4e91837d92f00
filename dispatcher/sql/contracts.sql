-- The price per result of each active contract for a case type: its
-- dearest billable outcome (what a verified result costs the tenant at
-- most).
-- columns: tenant_id, pool_id, case_type, price_minor
SELECT c.tenant_id, c.pool_id, t.case_type,
       COALESCE((SELECT max(p.amount_minor) FROM contract_prices p
                 WHERE p.contract_id = c.id AND p.case_type = t.case_type),
                0) AS price_minor
FROM contracts c
JOIN contract_case_types t ON t.contract_id = c.id
WHERE c.active
