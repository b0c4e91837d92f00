-- Month to date ($2 the month's first instant, $3 the next month's) for
-- the operator, per tenant and currency: outcomes billed, their amount
-- and state, and the operator's share.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object(
           'tenant', x.tenant_id, 'currency', x.currency, 'outcomes', x.n,
           'amount_minor', x.amount, 'pending_minor', x.pending,
           'verified_minor', x.verified, 'reversed_minor', x.reversed,
           'operator_share_minor', x.share)
           ORDER BY x.tenant_id, x.currency), '[]')::text AS doc
  FROM (SELECT b.tenant_id, b.currency, count(*) AS n,
               sum(b.amount_minor) AS amount,
               sum(b.amount_minor) FILTER (WHERE b.state = 'pending') AS pending,
               sum(b.amount_minor) FILTER (WHERE b.state = 'verified') AS verified,
               sum(b.amount_minor) FILTER (WHERE b.state = 'reversed') AS reversed,
               COALESCE(sum(s.amount_minor) FILTER (WHERE b.state <> 'reversed'), 0) AS share
          FROM billable_outcomes b
          LEFT JOIN outcome_splits s ON s.outcome_id = b.outcome_id
           AND s.role = 'operator' AND s.party = b.operator_id
         WHERE b.operator_id = $1::text
           AND b.outcome_at >= $2::timestamptz AND b.outcome_at < $3::timestamptz
         GROUP BY 1, 2) x
