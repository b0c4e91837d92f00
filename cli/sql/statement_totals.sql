-- twinline statement: per currency, the balance owed to party $1 on its
-- account of kind $2 before the period [$3, $4), the shares and the
-- deductions in it, the balance owed at its end, and the period's postings.
-- columns: currency, opening_minor, shares_minor, deductions_minor, closing_minor, lines
SELECT a.currency,
       -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at <
         $3::timestamptz), 0) AS opening_minor,
       -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at >=
         $3::timestamptz AND j.created_at < $4::timestamptz AND
         p.amount_minor < 0), 0) AS shares_minor,
       -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at >=
         $3::timestamptz AND j.created_at < $4::timestamptz AND
         p.amount_minor > 0), 0) AS deductions_minor,
       -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at <
         $4::timestamptz), 0) AS closing_minor,
       count(*) FILTER (WHERE j.created_at >= $3::timestamptz AND
         j.created_at < $4::timestamptz) AS lines
  FROM accounts a JOIN postings p ON p.account_id = a.id
  JOIN journal_entries j ON j.id = p.entry_id
 WHERE a.party = $1 AND a.kind = $2
 GROUP BY a.currency ORDER BY a.currency
