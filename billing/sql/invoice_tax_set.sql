-- Set the tax of the lines of draft $1: line numbers $2 get taxes $3
-- (arrays of the same length). The trigger refuses it once issued.
UPDATE invoice_lines il SET tax_minor = x.tax
  FROM unnest($2::int[], $3::bigint[]) AS x(line_no, tax)
 WHERE il.invoice_id = $1 AND il.line_no = x.line_no
