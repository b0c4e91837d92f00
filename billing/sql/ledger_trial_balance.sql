-- The trial balance: per currency, the sum of the debit balances, the sum
-- of the credit balances (positive), their difference (0 when the books
-- balance) and the number of accounts with postings.
-- columns: currency, debit_minor, credit_minor, net_minor, accounts
WITH b AS (
    SELECT a.currency, sum(p.amount_minor) AS bal
      FROM accounts a
      JOIN postings p ON p.account_id = a.id
     GROUP BY a.id, a.currency
)
SELECT currency,
       coalesce(sum(bal) FILTER (WHERE bal > 0), 0)::bigint AS debit_minor,
       coalesce(-sum(bal) FILTER (WHERE bal < 0), 0)::bigint AS credit_minor,
       sum(bal)::bigint AS net_minor,
       count(*) AS accounts
  FROM b
 GROUP BY currency
 ORDER BY currency
