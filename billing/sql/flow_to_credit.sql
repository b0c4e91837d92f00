-- Up to $1 reversed outcomes whose line is on an issued invoice and not
-- credited yet, by invoice and line, with the reason for the credit note.
-- columns: invoice_id, line_no, reason
SELECT il.invoice_id, il.line_no,
       left(coalesce(cd.kind || ': ' || cd.reason, 'reversed'), 400)
           AS reason
  FROM billable_outcomes b
  JOIN invoice_lines il
    ON il.kind = 'invoice' AND il.billable_line_id = b.billable_line_id
  JOIN invoices i ON i.id = il.invoice_id AND i.state = 'issued'
  LEFT JOIN case_disputes cd ON cd.id = b.reversed_by
 WHERE b.state = 'reversed'
   AND NOT EXISTS (SELECT 1 FROM invoice_lines c
                    WHERE c.kind = 'credit_note'
                      AND c.billable_line_id = b.billable_line_id)
 ORDER BY il.invoice_id, il.line_no
 LIMIT $1::int
