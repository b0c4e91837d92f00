-- Invoices and credit notes: per tenant per period, numbered without gaps
-- per series, immutable once issued, each line traceable to the billable
-- line (and so the case, task, worker and outcome) it bills.
-- Forward-only: never edit this file once merged; add 004_... instead.
-- See docs/invoices.md.

-- One numbering series per tenant and kind. next_number is the number the
-- next issued document of the series gets. It is taken by updating this row
-- inside the issuing transaction: the row lock serialises issuers and a
-- rolled-back transaction gives its number back, which a sequence would not.
CREATE TABLE invoice_series (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    token NOT NULL REFERENCES tenants (id),
    kind         text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    next_number  bigint NOT NULL DEFAULT 1 CHECK (next_number >= 1),
    UNIQUE (tenant_id, kind)
);

-- A tenant's period ('YYYY-MM', UTC) is closed once: the row is written by
-- the transaction that issues the period's invoices.
CREATE TABLE invoice_periods (
    tenant_id  token NOT NULL REFERENCES tenants (id),
    period     char(7) NOT NULL
               CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    closed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, period)
);

-- Invoices and credit notes. A credit note corrects (references) an
-- issued invoice of the same tenant and currency; its amounts are
-- negative. tenant_name and the lines' trace columns are copied when the
-- document is drafted, so renaming a tenant never changes an issued
-- document. content_hash is SHA-256 of the canonical JSON document and
-- signature the Ed25519 signature of that document by key key_id.
CREATE TABLE invoices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    tenant_id     token NOT NULL REFERENCES tenants (id),
    tenant_name   text NOT NULL CHECK (length(tenant_name) <= 200),
    period        char(7) NOT NULL
                  CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    series_id     bigint NOT NULL REFERENCES invoice_series (id),
    number        bigint CHECK (number >= 1),
    state         text NOT NULL DEFAULT 'draft'
                  CHECK (state IN ('draft', 'issued')),
    currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    line_count    int NOT NULL DEFAULT 0 CHECK (line_count >= 0),
    total_minor   bigint NOT NULL DEFAULT 0,
    corrects_id   bigint REFERENCES invoices (id),
    reason        text CHECK (length(reason) BETWEEN 1 AND 500),
    key_id        text CHECK (key_id ~ '^[0-9a-f]{16}$'),
    content_hash  text CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    signature     text CHECK (signature ~ '^[0-9a-f]{128}$'),
    issued_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (series_id, number),
    UNIQUE (id, kind),
    CHECK ((kind = 'credit_note') = (corrects_id IS NOT NULL)),
    CHECK ((kind = 'credit_note') = (reason IS NOT NULL)),
    CHECK (state = 'draft' OR (number IS NOT NULL AND key_id IS NOT NULL
           AND content_hash IS NOT NULL AND signature IS NOT NULL
           AND issued_at IS NOT NULL AND line_count > 0))
);
CREATE INDEX invoices_tenant ON invoices (tenant_id, period);
CREATE INDEX invoices_corrects ON invoices (corrects_id)
    WHERE corrects_id IS NOT NULL;

-- One line per billable line; kind repeats the document's kind (the
-- composite foreign key keeps them equal) so that UNIQUE (kind,
-- billable_line_id) lets a billable line be invoiced once and credited
-- once. The trace columns are copied from billable_lines so that the
-- signed document can be re-derived from this table alone.
CREATE TABLE invoice_lines (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id        bigint NOT NULL,
    kind              text NOT NULL,
    line_no           int NOT NULL CHECK (line_no >= 1),
    billable_line_id  bigint NOT NULL REFERENCES billable_lines (id),
    outcome_id        bigint NOT NULL REFERENCES outcomes (id),
    case_id           bigint NOT NULL REFERENCES cases (id),
    case_external_id  text NOT NULL,
    task_id           bigint NOT NULL REFERENCES tasks (id),
    worker_id         token NOT NULL REFERENCES workers (id),
    operator_id       token NOT NULL REFERENCES operators (id),
    contract_id       token NOT NULL REFERENCES contracts (id),
    outcome_code      token NOT NULL,
    billed_at         timestamptz NOT NULL,
    description       text NOT NULL CHECK (length(description) <= 500),
    amount_minor      bigint NOT NULL,
    FOREIGN KEY (invoice_id, kind) REFERENCES invoices (id, kind),
    UNIQUE (invoice_id, line_no),
    UNIQUE (kind, billable_line_id)
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id);

-- An issued document never changes: correct it with a credit note.
CREATE FUNCTION invoice_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'issued' THEN
        RAISE EXCEPTION '% % is issued and cannot be changed or deleted; '
                        'issue a credit note instead', OLD.kind, OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER invoices_immutable
    BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoice_immutable();

CREATE FUNCTION invoice_lines_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    doc bigint;
BEGIN
    FOR doc IN SELECT DISTINCT x FROM (VALUES
        (CASE WHEN TG_OP <> 'INSERT' THEN OLD.invoice_id END),
        (CASE WHEN TG_OP <> 'DELETE' THEN NEW.invoice_id END)) AS v(x)
        WHERE x IS NOT NULL
    LOOP
        IF EXISTS (SELECT 1 FROM invoices
                    WHERE id = doc AND state = 'issued') THEN
            RAISE EXCEPTION 'the lines of issued document % cannot be '
                            'added, changed or deleted; issue a credit '
                            'note instead', doc
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER invoice_lines_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION invoice_lines_immutable();

-- Numbers of a series are 1, 2, 3, ...: a number is accepted only when
-- its predecessor exists. With UNIQUE (series_id, number) and issued
-- documents never deleted, a series can never have a gap, whoever writes.
CREATE FUNCTION invoice_number_contiguous() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.number IS NOT NULL AND NEW.number > 1 AND NOT EXISTS (
        SELECT 1 FROM invoices
         WHERE series_id = NEW.series_id AND number = NEW.number - 1) THEN
        RAISE EXCEPTION 'number % of series % leaves a gap: % is missing',
                        NEW.number, NEW.series_id, NEW.number - 1
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER invoices_number_contiguous
    BEFORE INSERT OR UPDATE OF number ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoice_number_contiguous();

-- A series row is never deleted, and its counter only moves forward.
CREATE FUNCTION invoice_series_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.next_number < OLD.next_number
       OR NEW.tenant_id <> OLD.tenant_id OR NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'invoice series % only moves forward', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER invoice_series_forward
    BEFORE UPDATE OR DELETE ON invoice_series
    FOR EACH ROW EXECUTE FUNCTION invoice_series_forward();
