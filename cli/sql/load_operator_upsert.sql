-- twinline load: operator $1 with its name and the legal identity printed
-- on the invoices it sells on ($3 legal name, $4 address, $5 tax id, $6
-- country, $7 bank, $8 account, each NULL when not given), stated in full
-- and written only when it changed.
INSERT INTO operators (id, name, legal_name, address, tax_id, country,
    bank_name, bank_account)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
    legal_name = EXCLUDED.legal_name, address = EXCLUDED.address,
    tax_id = EXCLUDED.tax_id, country = EXCLUDED.country,
    bank_name = EXCLUDED.bank_name, bank_account = EXCLUDED.bank_account
WHERE (operators.name, operators.legal_name, operators.address,
       operators.tax_id, operators.country, operators.bank_name,
       operators.bank_account)
    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.legal_name, EXCLUDED.address,
       EXCLUDED.tax_id, EXCLUDED.country, EXCLUDED.bank_name,
       EXCLUDED.bank_account)
