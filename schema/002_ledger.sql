-- Double-entry ledger: accounts, journal entries and their postings.
-- Forward-only: never edit this file once merged; add 003_... instead.
--
-- Sign convention: a posting's amount_minor is positive for a debit and
-- negative for a credit. Every journal entry's postings sum to zero per
-- currency; the database checks it at commit (postings_balanced), so no
-- client, including one typing raw SQL, can store an unbalanced entry.
-- Entries and postings are append-only: a mistake is corrected by a
-- reversing entry, never by an edit. See docs/ledger.md.

-- One account per (party, kind, currency). party is a tenant, operator or
-- worker id, or 'platform' for Twinline's own accounts.
CREATE TABLE accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    party       token NOT NULL,
    kind        text NOT NULL CHECK (kind IN (
                    'bank_receivable',            -- verified, owed by a bank
                    'bank_unverified_receivable', -- billed, window still open
                    'unverified_revenue',         -- the other side of it
                    'platform_revenue',           -- Twinline's fee
                    'operator_payable',           -- owed to an operator
                    'worker_payable',             -- owed to a worker
                    'penalty',                    -- SLA and complaint credits
                    'cash')),                     -- settlements
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (party, kind, currency)
);

-- idem_key makes posting idempotent: the same key posts once. fingerprint
-- is a digest of the entry's postings (sorted), so a retry with different
-- postings under the same key is recognised as a conflict.
CREATE TABLE journal_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idem_key     text NOT NULL UNIQUE
                 CHECK (length(idem_key) BETWEEN 1 AND 200),
    fingerprint  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE postings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id      bigint NOT NULL REFERENCES journal_entries (id),
    account_id    bigint NOT NULL REFERENCES accounts (id),
    amount_minor  bigint NOT NULL CHECK (amount_minor <> 0)
);
CREATE INDEX postings_entry ON postings (entry_id);
CREATE INDEX postings_account ON postings (account_id);

-- Refuse at commit an entry whose postings do not sum to zero in every
-- currency, or an entry without postings. Deferred, so an entry and its
-- postings can be inserted by separate statements of one transaction.
CREATE FUNCTION ledger_check_entry(entry bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cur   text;
    total numeric;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM postings WHERE entry_id = entry) THEN
        IF EXISTS (SELECT 1 FROM journal_entries WHERE id = entry) THEN
            RAISE EXCEPTION 'journal entry % has no postings', entry
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN;
    END IF;
    SELECT a.currency, sum(p.amount_minor) INTO cur, total
      FROM postings p JOIN accounts a ON a.id = p.account_id
     WHERE p.entry_id = entry
     GROUP BY a.currency
    HAVING sum(p.amount_minor) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION
            'journal entry % does not balance: its % postings sum to % '
            '(debits must equal credits in every currency)',
            entry, cur, total
            USING ERRCODE = 'check_violation';
    END IF;
END;
$$;

CREATE FUNCTION ledger_postings_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_entry(NEW.entry_id);
    RETURN NULL;
END;
$$;

CREATE FUNCTION ledger_entry_has_postings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_entry(NEW.id);
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER postings_balanced
    AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_postings_balanced();

CREATE CONSTRAINT TRIGGER journal_entries_have_postings
    AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_has_postings();

-- Append-only: what was posted stays posted. TRUNCATE (an operator wiping
-- a test database) is not a row change and is not stopped.
CREATE FUNCTION ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a reversing entry instead of '
                    'changing or deleting rows', TG_TABLE_NAME
        USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER postings_append_only
    BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER journal_entries_append_only
    BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- An account's currency and identity never change once postings use it.
CREATE TRIGGER accounts_append_only
    BEFORE UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
