-- Mark period $2 of tenant $1 closed; a second close is a unique violation.
INSERT INTO invoice_periods (tenant_id, period) VALUES ($1, $2)
