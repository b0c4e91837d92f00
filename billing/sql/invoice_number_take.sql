-- Take the next number of the series (tenant $1, kind $2). The UPDATE of
-- the conflict branch locks the series row until the transaction ends, so
-- concurrent issuers queue here, and a rollback returns the number.
-- columns: series_id, number
INSERT INTO invoice_series (tenant_id, kind, next_number)
VALUES ($1, $2, 2)
ON CONFLICT (tenant_id, kind) DO UPDATE
    SET next_number = invoice_series.next_number + 1
RETURNING id AS series_id, next_number - 1 AS number
