-- Issue draft $1 with its content hash $2 and signature $3; from here on
-- the database refuses changes to it.
UPDATE invoices SET state = 'issued', content_hash = $2, signature = $3
 WHERE id = $1 AND state = 'draft'
