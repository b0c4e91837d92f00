-- Rate and bill outcomes $1 (an array; repeats allowed) with the
-- per-result prices of contract_prices, and report per requested id what
-- happened (what: billed, duplicate, not_billable, no_contract, no_price,
-- unknown). The contract is chosen per outcome with LATERAL so that "the
-- lowest id among the covering active contracts" is decided before the
-- price is looked up: a missing price on that contract is reported, not
-- silently replaced by another contract's price. Rows are inserted in
-- outcome order so two billers inserting overlapping batches take the
-- unique-index locks in the same order. ON CONFLICT DO NOTHING waits for a
-- concurrent insert of the same outcome and then skips it.
-- columns: req_id, what, tenant_id, case_type, code, contract_id, worker_id
WITH req AS (
    SELECT DISTINCT unnest($1::bigint[]) AS id
), rated AS (
    SELECT req.id AS req_id, o.id AS outcome_id, o.billable, o.task_id,
           o.case_id, o.worker_id, o.code, c.tenant_id, c.case_type,
           p.operator_id, k.id AS contract_id, k.currency, cp.amount_minor
      FROM req
      LEFT JOIN outcomes o ON o.id = req.id
      LEFT JOIN cases c ON c.id = o.case_id
      LEFT JOIN workers w ON w.id = o.worker_id
      LEFT JOIN pools p ON p.id = w.pool_id
      LEFT JOIN LATERAL (
           SELECT ct.id, ct.currency
             FROM contracts ct
             JOIN contract_case_types cct
               ON cct.contract_id = ct.id AND cct.case_type = c.case_type
            WHERE ct.tenant_id = c.tenant_id AND ct.pool_id = w.pool_id
              AND ct.active
            ORDER BY ct.id COLLATE "C"
            LIMIT 1) k ON o.billable
      LEFT JOIN contract_prices cp
        ON cp.contract_id = k.id AND cp.case_type = c.case_type
       AND cp.outcome_code = o.code
), ins AS (
    INSERT INTO billable_lines (outcome_id, tenant_id, operator_id,
        contract_id, case_id, task_id, worker_id, outcome_code, amount_minor,
        currency)
    SELECT outcome_id, tenant_id, operator_id, contract_id, case_id,
           task_id, worker_id, code, amount_minor, currency
      FROM rated
     WHERE billable AND amount_minor IS NOT NULL
       -- issue 5 (AI review): an AI outcome under review or overturned is
       -- not billed; a confirmed one is, by the sweeper.
       AND NOT EXISTS (SELECT 1 FROM outcomes h WHERE h.id = outcome_id
                          AND h.review IN ('pending', 'overturned'))
     ORDER BY outcome_id
    ON CONFLICT (outcome_id) DO NOTHING
    RETURNING outcome_id
)
SELECT r.req_id,
       CASE WHEN r.outcome_id IS NULL THEN 'unknown'
            WHEN NOT r.billable THEN 'not_billable'
            WHEN r.contract_id IS NULL THEN 'no_contract'
            WHEN r.amount_minor IS NULL THEN 'no_price'
            WHEN ins.outcome_id IS NOT NULL THEN 'billed'
            ELSE 'duplicate' END AS what,
       coalesce(r.tenant_id, '') AS tenant_id,
       coalesce(r.case_type, '') AS case_type,
       coalesce(r.code, '') AS code,
       coalesce(r.contract_id, '') AS contract_id,
       coalesce(r.worker_id, '') AS worker_id
  FROM rated r
  LEFT JOIN ins ON ins.outcome_id = r.outcome_id
 ORDER BY r.req_id
