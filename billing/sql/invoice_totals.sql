-- Sum the lines of draft $1 into its header: their count, net amounts and
-- taxes. A sum beyond bigint fails the cast (22003, ST_INVALID).
-- columns: line_count
UPDATE invoices i SET line_count = s.n, total_minor = s.t,
       tax_minor = s.tax
  FROM (SELECT count(*)::int AS n,
               coalesce(sum(amount_minor), 0)::bigint AS t,
               coalesce(sum(tax_minor), 0)::bigint AS tax
          FROM invoice_lines WHERE invoice_id = $1) s
 WHERE i.id = $1 AND i.state = 'draft'
RETURNING s.n AS line_count
