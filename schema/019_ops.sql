-- 019_ops.sql: the operator's actions on workers and the elastic call-up
-- (docs/protocol.md, "Operator requests"; docs/schema.md).
--
-- active: false once an operator deactivated the worker; it is offline,
-- gets no offers and its presence requests are refused (deactivated)
-- until an operator activates it again. on_call: the worker belongs to
-- the operator's reserve, which the call-up invites when the staffing
-- figure exceeds the workers online. Forward-only.
ALTER TABLE workers
    ADD COLUMN active  boolean NOT NULL DEFAULT true,
    ADD COLUMN on_call boolean NOT NULL DEFAULT false;

-- One row per call-up: an invitation to an on-call worker, its answer and
-- its release. state: invited (notice sent), accepted (the worker came
-- online), declined, expired (no answer in time), released (sent off
-- shift again when the queue shrank). The figures that decided it are
-- kept so the page can say why.
CREATE TABLE callups (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id   token NOT NULL REFERENCES operators (id),
    pool_id       token NOT NULL REFERENCES pools (id),
    worker_id     token NOT NULL REFERENCES workers (id),
    skill         token NOT NULL,
    state         text NOT NULL DEFAULT 'invited'
                  CHECK (state IN ('invited', 'accepted', 'declined',
                                   'expired', 'released')),
    required      int NOT NULL CHECK (required >= 0),
    online        int NOT NULL CHECK (online >= 0),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    invited_at    timestamptz NOT NULL DEFAULT now(),
    deadline      timestamptz NOT NULL,
    answered_at   timestamptz,
    released_at   timestamptz,
    release_reason text CHECK (length(release_reason) <= 500)
);
-- At most one open call-up per worker.
CREATE UNIQUE INDEX callups_open ON callups (worker_id)
    WHERE state IN ('invited', 'accepted');
CREATE INDEX callups_operator ON callups (operator_id, invited_at DESC);
