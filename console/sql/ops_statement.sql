-- The operator's payable account for the month [$2, $3) per currency:
-- owed before, shares earned, deductions, owed after, entries.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object(
           'currency', x.currency, 'opening_minor', x.opening,
           'shares_minor', x.shares, 'deductions_minor', x.deductions,
           'closing_minor', x.closing, 'entries', x.entries)
           ORDER BY x.currency), '[]')::text AS doc
  FROM (SELECT a.currency,
               -COALESCE(sum(p.amount_minor) FILTER (WHERE j.created_at < $2::timestamptz), 0) AS opening,
               -COALESCE(sum(p.amount_minor) FILTER (WHERE j.created_at >= $2::timestamptz
                   AND j.created_at < $3::timestamptz AND p.amount_minor < 0), 0) AS shares,
               -COALESCE(sum(p.amount_minor) FILTER (WHERE j.created_at >= $2::timestamptz
                   AND j.created_at < $3::timestamptz AND p.amount_minor > 0), 0) AS deductions,
               -COALESCE(sum(p.amount_minor) FILTER (WHERE j.created_at < $3::timestamptz), 0) AS closing,
               count(*) FILTER (WHERE j.created_at >= $2::timestamptz
                   AND j.created_at < $3::timestamptz) AS entries
          FROM accounts a JOIN postings p ON p.account_id = a.id
          JOIN journal_entries j ON j.id = p.entry_id
         WHERE a.party = $1::text AND a.kind = 'operator_payable'
         GROUP BY a.currency) x
