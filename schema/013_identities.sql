-- 013_identities.sql: the identities the programs connect with (issue 10,
-- docs/security.md). The console gets a role of its own, and the
-- permission violations nats-server reports are kept for the live figures.
-- Additive and forward-only.

-- twinline-console forwards bank and operator requests, publishes alerts
-- and reads its webhook consumer: an installation's service like the
-- dispatcher and billing, so it speaks for no party.
ALTER TABLE identities DROP CONSTRAINT identities_role_check;
ALTER TABLE identities ADD CONSTRAINT identities_role_check
    CHECK (role IN ('dispatcher', 'billing', 'console', 'tenant', 'operator',
                    'worker', 'admin'));

-- What the dispatcher read in nats-server's log (docs/security.md,
-- "Permission violations"): a refused publish or subscription, or a
-- refused connection (kind auth: an unknown, revoked or missing key).
-- identity, role and party are those of the key when it was known then;
-- NULL for a key that is no identity's (or none at all).
CREATE TABLE nats_violations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('publish', 'subscribe', 'auth')),
    public_key  text NOT NULL CHECK (public_key = ''
                                     OR public_key ~ '^U[A-Z2-7]{55}$'),
    identity    token,
    role        text,
    party       token,
    subject     text NOT NULL CHECK (length(subject) <= 256),
    client      text NOT NULL CHECK (length(client) <= 128)
);
CREATE INDEX nats_violations_at ON nats_violations (at);
