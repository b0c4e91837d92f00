-- Process up to $1 reopens and complaints not processed yet, and reverse
-- what they claw back. A dispute reverses every pending or verified
-- outcome of its case that was produced before it and whose clawback
-- window it falls inside. Two sources: disputes not processed yet, and
-- outcomes rated after a dispute was processed (their event was late),
-- which are still pending because the verifier never verifies an outcome
-- with a dispute in its window. A complaint about a case billed under a
-- plan with a complaint penalty gets its penalty, credited to the bank
-- (schema/008), as a billing adjustment.
--
-- One row per dispute processed (what 'dispute', id the dispute, and for
-- a penalty its tenant, currency and amount, negative) and per outcome
-- reversed (what 'outcome', id the outcome). The caller posts, in the
-- same transaction, the reversing entries and the penalties to the
-- ledger (ledger_batch_post).
-- columns: what, id, tenant_id, currency, amount_minor
WITH d AS (
    SELECT id FROM case_disputes
     WHERE processed_at IS NULL
     ORDER BY id
     LIMIT $1::int
       FOR UPDATE SKIP LOCKED
), hit AS (
    SELECT b.outcome_id, min(cd.id) AS dispute
      FROM billable_outcomes b
      JOIN case_disputes cd
        ON cd.case_id = b.case_id AND cd.created_at >= b.outcome_at
       AND cd.created_at <= b.clawback_until
     WHERE (b.state IN ('pending', 'verified') AND cd.id IN (SELECT id FROM d))
        OR (b.state = 'pending' AND cd.processed_at IS NOT NULL
            AND b.created_at >= cd.processed_at)
     GROUP BY b.outcome_id
     ORDER BY b.outcome_id
), upd AS (
    UPDATE billable_outcomes b
       SET state = 'reversed', reversed_at = now(), reversed_by = hit.dispute
      FROM hit
     WHERE b.outcome_id = hit.outcome_id
       AND b.state IN ('pending', 'verified')
    RETURNING b.outcome_id
), pen AS (
    INSERT INTO billing_adjustments (kind, tenant_id, operator_id,
        contract_id, plan_version, case_id, dispute_id, period, currency,
        amount_minor, description)
    SELECT 'complaint_penalty', cd.tenant_id, pl.operator_id, x.contract_id,
           x.version, cd.case_id, cd.id,
           to_char(cd.created_at AT TIME ZONE 'UTC', 'YYYY-MM'),
           x.plan->>'currency',
           -(x.plan->>'complaint_penalty_minor')::bigint,
           left(format('Complaint penalty: case %s, %s', c.external_id,
                       cd.reason), 500)
      FROM d
      JOIN case_disputes cd ON cd.id = d.id AND cd.kind = 'complaint'
      JOIN cases c ON c.id = cd.case_id
      JOIN case_plans cp ON cp.case_id = cd.case_id
      JOIN contract_plans x
        ON x.contract_id = cp.contract_id AND x.version = cp.version
      JOIN contracts k ON k.id = x.contract_id
      JOIN pools pl ON pl.id = k.pool_id
     WHERE (x.plan->>'complaint_penalty_minor')::bigint > 0
     ORDER BY cd.id
    ON CONFLICT (dispute_id) DO NOTHING
    RETURNING dispute_id, tenant_id, currency, amount_minor
), mark AS (
    UPDATE case_disputes c SET processed_at = now()
      FROM d
     WHERE c.id = d.id
)
SELECT 'dispute' AS what, d.id, pen.tenant_id::text AS tenant_id,
       pen.currency::text AS currency, pen.amount_minor
  FROM d
  LEFT JOIN pen ON pen.dispute_id = d.id
UNION ALL
SELECT 'outcome', upd.outcome_id, NULL, NULL, NULL
  FROM upd
 ORDER BY 1, 2
