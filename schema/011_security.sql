-- 011_security.sql: the tables identity, encryption at rest and the audit
-- trail need (issue 10). The primitives are in common/ (nkey, natsauth,
-- seal, audit); docs/security.md describes them. Additive and
-- forward-only.

-- NATS identities: one nkey user each (natsauth.h). An identity keeps its
-- id across key rotations; each key is a row, at most one of them active.
-- party is the tenant, operator or worker the identity speaks for (NULL for
-- the installation's own services and its admin command line).
CREATE TABLE identities (
    key_seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identity    token NOT NULL,
    role        text NOT NULL CHECK (role IN ('dispatcher', 'billing',
                'tenant', 'operator', 'worker', 'admin')),
    party       token,
    public_key  text NOT NULL UNIQUE CHECK (public_key ~ '^U[A-Z2-7]{55}$'),
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'revoked')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role IN ('tenant', 'operator', 'worker')) = (party IS NOT NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE UNIQUE INDEX identities_one_active ON identities (identity)
    WHERE status = 'active';
CREATE INDEX identities_party ON identities (role, party);

-- Per-tenant data keys (seal.h), stored only wrapped by the master key
-- master_key_id, which lives outside the database. Values sealed under a
-- key carry its key_id; a master key rotation rewraps these rows only.
CREATE TABLE tenant_data_keys (
    tenant_id     token NOT NULL REFERENCES tenants (id),
    key_id        int NOT NULL CHECK (key_id > 0),
    master_key_id text NOT NULL CHECK (length(master_key_id) BETWEEN 1 AND 64),
    wrapped       bytea NOT NULL CHECK (length(wrapped) BETWEEN 1 AND 128),
    created_at    timestamptz NOT NULL DEFAULT now(),
    rewrapped_at  timestamptz,
    PRIMARY KEY (tenant_id, key_id)
);

-- The audit trail (audit.h): a hash chain, seq 1, 2, ... without gaps.
-- details is the canonical JSON text the hash covers, byte for byte, so it
-- is text, not jsonb (which would reorder keys). at has PostgreSQL's
-- microsecond resolution, the at_us of the hash.
CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY CHECK (seq > 0),
    at         timestamptz NOT NULL,
    party      text NOT NULL CHECK (length(party) BETWEEN 1 AND 160),
    identity   text NOT NULL CHECK (length(identity) BETWEEN 1 AND 64),
    action     text NOT NULL CHECK (action ~ '^[a-z0-9._-]{1,64}$'),
    subjects   text NOT NULL DEFAULT '' CHECK (length(subjects) <= 512),
    details    text NOT NULL CHECK (length(details) <= 65536),
    prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash       bytea NOT NULL UNIQUE CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_party ON audit_log (party, at);

-- The head of the chain, one row: an appender locks it (SELECT ... FOR
-- UPDATE), links the new record to its hash and moves it, in the same
-- transaction as the change it records, so seq has no gaps. It is a
-- convenience, not evidence: audit verify reads the log and checkpoints.
CREATE TABLE audit_head (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq   bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
    hash  bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
          CHECK (length(hash) = 32)
);
INSERT INTO audit_head DEFAULT VALUES;

-- Signed checkpoints: an Ed25519 signature (by the nkey signer) over the
-- chain up to seq.
CREATE TABLE audit_checkpoints (
    seq        bigint PRIMARY KEY REFERENCES audit_log (seq),
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    at         timestamptz NOT NULL,
    signer     text NOT NULL CHECK (signer ~ '^U[A-Z2-7]{55}$'),
    signature  bytea NOT NULL CHECK (length(signature) = 64)
);

-- Rows of the trail are never changed or removed. A superuser can still
-- disable triggers; the chain and the signed checkpoints are what prove
-- tampering then (audit verify).
CREATE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are never changed; record a correction as a new row';
END;
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
