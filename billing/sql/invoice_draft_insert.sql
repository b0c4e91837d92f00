-- A draft invoice or credit note, issued at the current second.
-- columns: id
INSERT INTO invoices (kind, tenant_id, tenant_name, period, series_id,
    number, currency, key_id, corrects_id, reason, issued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
        date_trunc('second', now()))
RETURNING id
