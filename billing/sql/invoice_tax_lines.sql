-- The lines of draft $1 with the tax each carries, for working out its
-- share of the tax (billing/invoice_tax.h).
-- columns: line_no, amount_minor, tax_name, tax_rate_bps, tax_rounding
SELECT line_no, amount_minor, coalesce(tax_name, '') AS tax_name,
       coalesce(tax_rate_bps, 0) AS tax_rate_bps,
       coalesce(tax_rounding, 'half_up') AS tax_rounding
  FROM invoice_lines
 WHERE invoice_id = $1
 ORDER BY line_no
