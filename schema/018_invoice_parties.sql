-- 018_invoice_parties.sql: invoices a bank's accounts payable accepts
-- (issue 11): the seller's and the buyer's legal names, addresses, tax ids
-- and bank accounts, issue and due dates with the payment terms, and tax
-- per line and in total, each copied onto the document when it is drafted
-- so that a later change of configuration never changes an issued
-- document. Tenants gain the time zone their dates are shown in. Documents
-- issued before this migration keep format twinline.invoice/1 and verify
-- as they did. See docs/invoices.md and docs/config.md. Forward-only.

-- Legal identity of a party, as printed on invoices (docs/config.md,
-- "legal"). NULL until a configuration file gives it.
ALTER TABLE tenants
    ADD COLUMN time_zone     text NOT NULL DEFAULT 'UTC'
                             CHECK (length(time_zone) BETWEEN 1 AND 64),
    ADD COLUMN legal_name    text CHECK (length(legal_name) BETWEEN 1 AND 200),
    ADD COLUMN address       text CHECK (length(address) BETWEEN 1 AND 500),
    ADD COLUMN tax_id        text CHECK (length(tax_id) BETWEEN 1 AND 32),
    ADD COLUMN country       char(2) CHECK (country ~ '^[A-Z]{2}$'),
    ADD COLUMN bank_name     text CHECK (length(bank_name) BETWEEN 1 AND 200),
    ADD COLUMN bank_account  text CHECK (length(bank_account) BETWEEN 1 AND 64);

ALTER TABLE operators
    ADD COLUMN legal_name    text CHECK (length(legal_name) BETWEEN 1 AND 200),
    ADD COLUMN address       text CHECK (length(address) BETWEEN 1 AND 500),
    ADD COLUMN tax_id        text CHECK (length(tax_id) BETWEEN 1 AND 32),
    ADD COLUMN country       char(2) CHECK (country ~ '^[A-Z]{2}$'),
    ADD COLUMN bank_name     text CHECK (length(bank_name) BETWEEN 1 AND 200),
    ADD COLUMN bank_account  text CHECK (length(bank_account) BETWEEN 1 AND 64);

-- A contract's invoicing terms: days from issue to due date, and the tax
-- charged on its results (no tax_name: none), rounded once per rate and
-- invoice in tax_rounding.
ALTER TABLE contracts
    ADD COLUMN payment_terms_days int NOT NULL DEFAULT 30
                                  CHECK (payment_terms_days BETWEEN 0 AND 365),
    ADD COLUMN tax_name      text CHECK (length(tax_name) BETWEEN 1 AND 32),
    ADD COLUMN tax_rate_bps  int NOT NULL DEFAULT 0
                             CHECK (tax_rate_bps BETWEEN 0 AND 10000),
    ADD COLUMN tax_rounding  text NOT NULL DEFAULT 'half_up'
                             CHECK (tax_rounding IN ('half_even', 'half_up',
                                                     'down')),
    ADD CHECK (tax_name IS NOT NULL OR tax_rate_bps = 0);

-- The document's format decides how it is rendered and signed; rows
-- issued before this migration are format 1. A format 2 document names
-- its seller (the operator whose pools did the work) and buyer (the
-- tenant) as they were when it was drafted, its dates in the tenant's
-- time zone, and its tax total (total_minor stays the sum of the lines'
-- net amounts).
ALTER TABLE invoices
    ADD COLUMN format              text NOT NULL DEFAULT 'twinline.invoice/1'
                                   CHECK (format IN ('twinline.invoice/1',
                                                     'twinline.invoice/2')),
    ADD COLUMN seller_id           token REFERENCES operators (id),
    ADD COLUMN seller_name         text,
    ADD COLUMN seller_address      text,
    ADD COLUMN seller_tax_id       text,
    ADD COLUMN seller_country      text,
    ADD COLUMN seller_bank_name    text,
    ADD COLUMN seller_bank_account text,
    ADD COLUMN buyer_name          text,
    ADD COLUMN buyer_address       text,
    ADD COLUMN buyer_tax_id        text,
    ADD COLUMN buyer_country       text,
    ADD COLUMN buyer_bank_name     text,
    ADD COLUMN buyer_bank_account  text,
    ADD COLUMN time_zone           text,
    ADD COLUMN issue_date          date,
    ADD COLUMN due_date            date,
    ADD COLUMN payment_terms_days  int CHECK (payment_terms_days >= 0),
    ADD COLUMN tax_minor           bigint NOT NULL DEFAULT 0,
    ADD CHECK (format = 'twinline.invoice/1' OR (seller_id IS NOT NULL
               AND seller_name IS NOT NULL AND seller_address IS NOT NULL
               AND seller_tax_id IS NOT NULL AND seller_country IS NOT NULL
               AND seller_bank_name IS NOT NULL
               AND seller_bank_account IS NOT NULL
               AND buyer_name IS NOT NULL AND buyer_address IS NOT NULL
               AND buyer_tax_id IS NOT NULL AND buyer_country IS NOT NULL
               AND buyer_bank_name IS NOT NULL
               AND buyer_bank_account IS NOT NULL AND time_zone IS NOT NULL
               AND issue_date IS NOT NULL AND due_date >= issue_date
               AND payment_terms_days IS NOT NULL));

-- Per line: the case type (for subtotals and the bank's reading) and the
-- tax it carries, copied from its contract when drafted. A line's tax is
-- its share of its rate's total on the document (docs/invoices.md,
-- "Tax").
ALTER TABLE invoice_lines
    ADD COLUMN case_type     token,
    ADD COLUMN tax_name      text,
    ADD COLUMN tax_rate_bps  int CHECK (tax_rate_bps BETWEEN 0 AND 10000),
    ADD COLUMN tax_rounding  text,
    ADD COLUMN tax_minor     bigint NOT NULL DEFAULT 0;
