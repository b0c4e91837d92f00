-- 014_sealed_cases.sql: customer data sealed at rest (issue 10, item 6;
-- docs/security.md, "Customer data at rest"). The dispatcher seals a
-- case's customer and the payload fields its playbook marks personal into
-- one value, cases.personal, before the row reaches PostgreSQL; the
-- database never sees them in plain text. Forward-only and additive.

-- The sealed part of a case: common/seal.h's format ("TS", version 1,
-- the tenant's data key id, nonce, ciphertext, tag) over the JSON text
-- {"customer": {...}, "payload": {...}}, bound to (tenant, case id,
-- "personal"). NULL: nothing personal was submitted, or the case was
-- erased. erased_at: when `twinline case erase` made the customer's
-- personal data unreadable (the billing records stay); erase_request: the
-- reference the operator gave for it (a token, never free text, so that
-- nothing personal can be written into it).
ALTER TABLE cases
    ADD COLUMN personal      bytea CHECK (length(personal) BETWEEN 48 AND 1048623),
    ADD COLUMN erased_at     timestamptz,
    ADD COLUMN erase_request token,
    ADD CONSTRAINT cases_erased_sealed
        CHECK (erased_at IS NULL OR personal IS NULL);

-- Rows written before this migration hold their customer in plain text
-- until `twinline keys reseal` seals them. From now on no row may be
-- written with one: NOT VALID checks every new or updated row and leaves
-- the old ones to the reseal (VALIDATE CONSTRAINT once it has run).
ALTER TABLE cases ADD CONSTRAINT cases_customer_sealed
    CHECK (customer = '{}'::jsonb) NOT VALID;

-- The data key id in a sealed value's header (bytes 4-7, big-endian);
-- NULL for NULL. `twinline keys list` counts the cases under each key and
-- `twinline keys reseal` finds those under an older one with it.
CREATE FUNCTION seal_key_id(v bytea) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (get_byte(v, 3)::bigint << 24 | get_byte(v, 4) << 16
            | get_byte(v, 5) << 8 | get_byte(v, 6))::int
$$;
