-- The lines of invoice $1 and the number of the credit note that already
-- credits each (0: none).
-- columns: line_no, credited_by
SELECT il.line_no, coalesce(cn.number, 0) AS credited_by
  FROM invoice_lines il
  LEFT JOIN invoice_lines cl ON cl.kind = 'credit_note'
       AND (cl.billable_line_id = il.billable_line_id
            OR cl.adjustment_id = il.adjustment_id)
  LEFT JOIN invoices cn ON cn.id = cl.invoice_id
 WHERE il.invoice_id = $1
 ORDER BY il.line_no
