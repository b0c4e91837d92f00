-- Verify up to $1 pending outcomes whose window passed with no reopen and
-- no complaint in it. One row per share of each outcome's split (role and
-- party NULL for an outcome without one), with the outcome's tenant,
-- currency and price; the caller posts, in the same transaction, the
-- verified entry (ledger_batch_post): the price moves from the unverified
-- receivable to the bank receivable, and the platform fee and every share
-- are credited to their party's account.
-- columns: outcome_id, tenant_id, currency, amount_minor, role, party, share_minor
WITH due AS (
    SELECT b.outcome_id, b.tenant_id, b.currency, b.amount_minor
      FROM billable_outcomes b
     WHERE b.state = 'pending' AND b.verify_after <= now()
       AND NOT EXISTS (SELECT 1 FROM case_disputes cd
                        WHERE cd.case_id = b.case_id
                          AND cd.created_at >= b.outcome_at
                          AND cd.created_at <= b.clawback_until)
     ORDER BY b.outcome_id
     LIMIT $1::int
       FOR UPDATE OF b SKIP LOCKED
), upd AS (
    UPDATE billable_outcomes b SET state = 'verified', verified_at = now()
      FROM due
     WHERE b.outcome_id = due.outcome_id
    RETURNING b.outcome_id
)
SELECT due.outcome_id, due.tenant_id::text AS tenant_id,
       due.currency::text AS currency, due.amount_minor, s.role,
       s.party::text AS party, coalesce(s.amount_minor, 0) AS share_minor
  FROM due
  JOIN upd ON upd.outcome_id = due.outcome_id
  LEFT JOIN outcome_splits s ON s.outcome_id = due.outcome_id
 ORDER BY due.outcome_id, s.role, s.party
