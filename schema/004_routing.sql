-- Routing (issue 3): licences, AI workers, relaxation rings and TTLs,
-- per-pool ranking weights and wrap-up, per-channel offer settings, operator
-- priorities, recorded routing decisions and task/case cancel reasons.
-- Forward-only: never edit this file once merged; add 005_... instead.
-- Every new column has a default that keeps the earlier behaviour, so
-- existing configuration files keep loading unchanged.

-- A worker's licences (e.g. a regulator's debt-collection licence). A step
-- that names a licence goes only to workers holding it, valid on the day of
-- the decision (expires_on NULL: never expires; valid through expires_on).
CREATE TABLE worker_licences (
    worker_id  token NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    code       token NOT NULL,
    expires_on date,
    PRIMARY KEY (worker_id, code)
);

-- Per step: the licence it requires, its relaxation rings and its time to
-- live. rings: [{"after_seconds": 60, "lower_by": 1, "assist": true,
-- "overflow_pool": "spec", "priority_boost": 2}, ...] in increasing
-- after_seconds, at most 4; each states its relaxation in full
-- (docs/routing.md). ttl_seconds: a task pending longer than this since it
-- became ready is canceled with a reason (NULL: waits for ever).
ALTER TABLE playbook_steps
    ADD COLUMN licence     token,
    ADD COLUMN rings       jsonb NOT NULL DEFAULT '[]'
               CHECK (jsonb_typeof(rings) = 'array'
                      AND jsonb_array_length(rings) <= 4),
    ADD COLUMN ttl_seconds int CHECK (ttl_seconds > 0);

-- Ranking weights and wrap-up per pool; a pool without a row uses the
-- defaults (occupancy 1000, the rest 0, fairness cap 10, no wrap-up), which
-- reproduce the walking skeleton's least loaded, then longest idle.
CREATE TABLE pool_routing (
    pool_id        token PRIMARY KEY REFERENCES pools (id) ON DELETE CASCADE,
    wrapup_seconds int NOT NULL DEFAULT 0
                   CHECK (wrapup_seconds BETWEEN 0 AND 3600),
    w_fit          bigint NOT NULL DEFAULT 0,
    w_occupancy    bigint NOT NULL DEFAULT 1000,
    w_quality      bigint NOT NULL DEFAULT 0,
    w_cost         bigint NOT NULL DEFAULT 0,
    w_fairness     bigint NOT NULL DEFAULT 0,
    fairness_cap   bigint NOT NULL DEFAULT 10 CHECK (fairness_cap >= 0)
);

-- Offer settings per channel. offer_timeout_ms NULL: the dispatcher's
-- --offer-timeout-ms. auto_accept: the reservation is created accepted and
-- the worker receives the task directly (meant for back-office work).
CREATE TABLE channel_settings (
    channel          text PRIMARY KEY
                     CHECK (channel IN ('voice', 'chat', 'backoffice')),
    offer_timeout_ms int CHECK (offer_timeout_ms BETWEEN 100 AND 3600000),
    auto_accept      boolean NOT NULL DEFAULT false
                     CHECK (NOT auto_accept OR channel = 'backoffice')
);
INSERT INTO channel_settings (channel) VALUES
    ('voice'), ('chat'), ('backoffice');

-- An operator's priority for one task (NULL: the case's priority).
ALTER TABLE tasks
    ADD COLUMN priority      int CHECK (priority BETWEEN -100 AND 100),
    ADD COLUMN cancel_reason text;
ALTER TABLE cases ADD COLUMN cancel_reason text;

-- Why each reservation went to its worker (router_explain): the rule that
-- fired, the best candidates examined (at most 8, chosen first) with their
-- score components, and how many workers each hard rule removed.
-- candidates: [{"worker": "wa", "score": 90, "parts": {"fit": 0, ...}}]
-- filtered: {"skill": 1, "contract": 0, ...}
CREATE TABLE routing_decisions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id        bigint NOT NULL REFERENCES tasks (id),
    reservation_id bigint NOT NULL REFERENCES reservations (id),
    worker_id      token NOT NULL REFERENCES workers (id),
    rule           text NOT NULL CHECK (rule IN ('affinity', 'best', 'only',
                   'ring', 'batch')),
    ring           int NOT NULL DEFAULT 0,
    ring_def       jsonb,
    waited_ms      bigint NOT NULL,
    priority       int NOT NULL,
    examined       int NOT NULL,
    candidates     jsonb NOT NULL CHECK (jsonb_typeof(candidates) = 'array'
                   AND jsonb_array_length(candidates) <= 8),
    filtered       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_decisions_task ON routing_decisions (task_id);

-- Live figures (twinline stats) look at the last hour's completions.
CREATE INDEX tasks_completed ON tasks (completed_at) WHERE state = 'completed';
