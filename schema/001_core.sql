-- Twinline core schema: parties, playbooks, cases, tasks, reservations,
-- outcomes, billable lines and the event outbox.
-- Forward-only: never edit this file once merged; add 002_... instead.

CREATE DOMAIN token AS text
    CHECK (VALUE ~ '^[A-Za-z0-9_-]{1,64}$');

CREATE TABLE tenants (
    id          token PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'bank' CHECK (kind IN ('bank', 'insurer')),
    priority    int NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 9),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE operators (
    id          token PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pools (
    id          token PRIMARY KEY,
    operator_id token NOT NULL REFERENCES operators (id),
    name        text NOT NULL
);

CREATE TABLE workers (
    id          token PRIMARY KEY,
    pool_id     token NOT NULL REFERENCES pools (id),
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'human' CHECK (kind IN ('human', 'ai')),
    languages   text[] NOT NULL DEFAULT '{}',
    quality     int NOT NULL DEFAULT 80 CHECK (quality BETWEEN 0 AND 100),
    presence    text NOT NULL DEFAULT 'offline'
                CHECK (presence IN ('offline', 'available', 'break')),
    last_seen   timestamptz,
    lease_lost  boolean NOT NULL DEFAULT false, -- set offline by lease expiry
    idle_since  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Skill levels 0..5; ai_level is the effective level with the AI skill pack.
CREATE TABLE worker_skills (
    worker_id   token NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    skill       token NOT NULL,
    level       int NOT NULL CHECK (level BETWEEN 0 AND 5),
    ai_level    int NOT NULL DEFAULT 0 CHECK (ai_level BETWEEN 0 AND 5),
    PRIMARY KEY (worker_id, skill)
);

-- Concurrent task slots per channel.
CREATE TABLE worker_capacity (
    worker_id   token NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('voice', 'chat', 'backoffice')),
    slots       int NOT NULL CHECK (slots BETWEEN 0 AND 64),
    PRIMARY KEY (worker_id, channel)
);

CREATE TABLE contracts (
    id                token PRIMARY KEY,
    tenant_id         token NOT NULL REFERENCES tenants (id),
    pool_id           token NOT NULL REFERENCES pools (id),
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    verification_days int NOT NULL DEFAULT 0 CHECK (verification_days >= 0),
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Case types a contract covers and the per-result price of each billable
-- outcome, in minor units of the contract currency.
CREATE TABLE contract_prices (
    contract_id  token NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    case_type    token NOT NULL,
    outcome_code token NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (contract_id, case_type, outcome_code)
);

CREATE TABLE contract_case_types (
    contract_id token NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    case_type   token NOT NULL,
    PRIMARY KEY (contract_id, case_type)
);

-- A playbook version is immutable; loading a changed definition adds a
-- version. definition keeps the document as loaded.
CREATE TABLE playbooks (
    tenant_id   token NOT NULL REFERENCES tenants (id),
    case_type   token NOT NULL,
    version     int NOT NULL CHECK (version > 0),
    name        text NOT NULL,
    definition  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, case_type, version)
);

-- Steps of a playbook version. skills: {"collections": 2, ...} minimum
-- levels. after: steps that must finish first. when_outcomes: if non-empty,
-- the step runs only when one of `after` ended with one of these codes,
-- otherwise it is skipped. outcomes: {"code": {"billable": bool,
-- "fields": {"name": "amount_minor|date|string|int|bool", ...}}}.
CREATE TABLE playbook_steps (
    tenant_id     token NOT NULL,
    case_type     token NOT NULL,
    version       int NOT NULL,
    step          token NOT NULL,
    ordinal       int NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('voice', 'chat', 'backoffice')),
    sla_seconds   int NOT NULL CHECK (sla_seconds > 0),
    ai_mode       text NOT NULL DEFAULT 'none' CHECK (ai_mode IN ('none', 'assist', 'auto')),
    skills        jsonb NOT NULL,
    after_steps   text[] NOT NULL DEFAULT '{}',
    when_outcomes text[] NOT NULL DEFAULT '{}',
    outcomes      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, case_type, version, step),
    FOREIGN KEY (tenant_id, case_type, version)
        REFERENCES playbooks (tenant_id, case_type, version)
);

CREATE TABLE cases (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        token NOT NULL REFERENCES tenants (id),
    external_id      text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 128),
    case_type        token NOT NULL,
    playbook_version int NOT NULL,
    priority         int NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 9),
    customer         jsonb NOT NULL DEFAULT '{}',
    payload          jsonb NOT NULL DEFAULT '{}',
    state            text NOT NULL DEFAULT 'open'
                     CHECK (state IN ('open', 'closed', 'canceled')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    UNIQUE (tenant_id, external_id),
    FOREIGN KEY (tenant_id, case_type, playbook_version)
        REFERENCES playbooks (tenant_id, case_type, version)
);

-- waiting: dependencies not finished; pending: ready to route;
-- reserved: offered; assigned: accepted; completed; skipped: its condition
-- did not hold; canceled.
CREATE TABLE tasks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cases (id),
    tenant_id     token NOT NULL,
    step          token NOT NULL,
    state         text NOT NULL CHECK (state IN ('waiting', 'pending', 'reserved',
                  'assigned', 'wrapping', 'completed', 'skipped', 'canceled')),
    epoch         int NOT NULL DEFAULT 0,
    worker_id     token REFERENCES workers (id),
    offers        int NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    ready_at      timestamptz,
    sla_due_at    timestamptz,
    assigned_at   timestamptz,
    completed_at  timestamptz,
    UNIQUE (case_id, step)
);
CREATE INDEX tasks_open ON tasks (state) WHERE state IN ('pending', 'reserved', 'assigned');
CREATE INDEX tasks_case ON tasks (case_id);

-- One row per offer. epoch equals the task's epoch when it was made; every
-- later write names it, so a stale worker's write changes nothing.
CREATE TABLE reservations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id      bigint NOT NULL REFERENCES tasks (id),
    worker_id    token NOT NULL REFERENCES workers (id),
    epoch        int NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected',
                 'timeout', 'canceled', 'rescinded', 'wrapping', 'completed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    deadline     timestamptz NOT NULL,
    answered_at  timestamptz,
    reason       text,
    UNIQUE (task_id, epoch)
);
CREATE INDEX reservations_open ON reservations (state, deadline)
    WHERE state IN ('pending', 'accepted');
CREATE INDEX reservations_worker ON reservations (worker_id)
    WHERE state IN ('pending', 'accepted');

-- Workers who rejected or let an offer of this task time out.
CREATE TABLE task_exclusions (
    task_id    bigint NOT NULL REFERENCES tasks (id),
    worker_id  token NOT NULL REFERENCES workers (id),
    reason     text NOT NULL,
    PRIMARY KEY (task_id, worker_id)
);

-- At most one outcome per task: a redelivered completion stores nothing.
CREATE TABLE outcomes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id         bigint NOT NULL UNIQUE REFERENCES tasks (id),
    case_id         bigint NOT NULL REFERENCES cases (id),
    tenant_id       token NOT NULL,
    worker_id       token NOT NULL REFERENCES workers (id),
    reservation_id  bigint NOT NULL REFERENCES reservations (id),
    code            token NOT NULL,
    fields          jsonb NOT NULL DEFAULT '{}',
    billable        boolean NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outcomes_case ON outcomes (case_id);
CREATE INDEX outcomes_reservation ON outcomes (reservation_id);

-- At most one billable line per outcome: billing never counts twice.
CREATE TABLE billable_lines (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outcome_id    bigint NOT NULL UNIQUE REFERENCES outcomes (id),
    tenant_id     token NOT NULL REFERENCES tenants (id),
    operator_id   token NOT NULL REFERENCES operators (id),
    contract_id   token NOT NULL REFERENCES contracts (id),
    case_id       bigint NOT NULL REFERENCES cases (id),
    task_id       bigint NOT NULL REFERENCES tasks (id),
    worker_id     token NOT NULL REFERENCES workers (id),
    outcome_code  token NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor >= 0),
    currency      char(3) NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Events written in the same transaction as the change they describe and
-- published to JetStream after commit with Nats-Msg-Id = 'evt-' || id.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject       text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
