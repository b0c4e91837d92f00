-- 012_console.sql: the operator's console (twinline-console, docs/http.md).
-- The console reads the dispatcher's and billing's tables and writes only
-- the tables below; nothing here changes an existing table, so the
-- dispatcher's hot path pays nothing for it. Forward-only.

-- API keys of operators and banks. The secret half of a key is 256 random
-- bits and only its BLAKE2b-256 hash is kept (docs/http.md, "Keys"); id is
-- the public half, printed in the key itself, so a request finds its row
-- by primary key. owner is an operator for kind operator, a tenant for
-- kind tenant.
CREATE TABLE console_keys (
    id           text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    kind         text NOT NULL CHECK (kind IN ('operator', 'tenant')),
    owner        token NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    hash         bytea NOT NULL CHECK (length(hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- Per pool: the service-level threshold and target and how the pool is
-- staffed (tl_staffing, docs/staffing.md). No row: the defaults.
CREATE TABLE console_pool_settings (
    pool_id            token PRIMARY KEY REFERENCES pools (id) ON DELETE CASCADE,
    threshold_s        int NOT NULL DEFAULT 20 CHECK (threshold_s BETWEEN 1 AND 86400),
    target_permille    int NOT NULL DEFAULT 800
                       CHECK (target_permille BETWEEN 1 AND 999),
    model              text NOT NULL DEFAULT 'erlang_c'
                       CHECK (model IN ('erlang_c', 'erlang_a', 'workload')),
    patience_s         int NOT NULL DEFAULT 180 CHECK (patience_s BETWEEN 1 AND 86400),
    shrinkage_permille int NOT NULL DEFAULT 0 CHECK (shrinkage_permille BETWEEN 0 AND 950),
    breach_minutes     int NOT NULL DEFAULT 5 CHECK (breach_minutes BETWEEN 1 AND 1440),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Interval history per queue (pool, skill, channel) and 15-minute
-- interval, written once per interval by the console's rollup after the
-- interval has closed. Each figure is attributed to the interval in which
-- its event happened: offered when the task became ready, accepted (and
-- its wait) when a worker accepted it, handled (and its handle time) when
-- it was completed, expired when it was canceled.
CREATE TABLE console_intervals (
    interval_start timestamptz NOT NULL,
    pool_id        token NOT NULL,
    skill          token NOT NULL,
    channel        text NOT NULL,
    offered        int NOT NULL,
    accepted       int NOT NULL,
    handled        int NOT NULL,
    expired        int NOT NULL,
    answered_in_sl int NOT NULL,
    wait_sum_ms    bigint NOT NULL,
    wait_p90_ms    bigint,
    handle_sum_ms  bigint NOT NULL,
    threshold_s    int NOT NULL,
    PRIMARY KEY (interval_start, pool_id, skill, channel)
);
CREATE INDEX console_intervals_queue
    ON console_intervals (pool_id, skill, channel, interval_start);

-- Occupancy and staffing actually online per pool, channel and interval,
-- accumulated from samples the console takes every few seconds.
CREATE TABLE console_occupancy (
    interval_start timestamptz NOT NULL,
    pool_id        token NOT NULL,
    channel        text NOT NULL,
    samples        int NOT NULL,
    online_sum     bigint NOT NULL, -- workers not offline, summed over samples
    slots_sum      bigint NOT NULL, -- their slots of the channel
    busy_sum       bigint NOT NULL, -- their slots holding a task
    PRIMARY KEY (interval_start, pool_id, channel)
);

-- How far the rollup got: every interval before rolled_until is in
-- console_intervals, and every task below low_task_id had all its events
-- before rolled_until, so a pass reads only tasks from low_task_id on.
CREATE TABLE console_rollup_state (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    rolled_until timestamptz NOT NULL,
    low_task_id  bigint NOT NULL
);

-- Per worker and day (UTC): time online and time holding a task, from
-- the same samples; the fairness figures divide by the online hours.
CREATE TABLE console_worker_days (
    day        date NOT NULL,
    worker_id  token NOT NULL,
    online_ms  bigint NOT NULL,
    busy_ms    bigint NOT NULL,
    PRIMARY KEY (day, worker_id)
);

-- When each worker entered the state the console last saw it in.
CREATE TABLE console_worker_state (
    worker_id  token PRIMARY KEY REFERENCES workers (id) ON DELETE CASCADE,
    state      text NOT NULL,
    since      timestamptz NOT NULL
);

-- Webhooks: one per bank (case events) or operator (alerts). The secret
-- signs every body (HMAC-SHA256) and is shown once when it is set.
CREATE TABLE console_webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('operator', 'tenant')),
    owner      token NOT NULL,
    url        text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 500),
    secret     text NOT NULL CHECK (secret ~ '^[0-9a-f]{64}$'),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX console_webhooks_owner ON console_webhooks (kind, owner)
    WHERE active;

-- One delivery of one event to one webhook; event_id (the event's
-- Nats-Msg-Id, or alert-<id>) makes a redelivered event a no-op. The
-- delivery id travels in the Twinline-Delivery header so a receiver can
-- drop a retry it has already processed.
CREATE TABLE console_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES console_webhooks (id),
    event_id        text NOT NULL,
    event_type      text NOT NULL,
    body            text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     int,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX console_deliveries_due ON console_deliveries (next_attempt_at)
    WHERE state = 'pending';

-- Alerts an operator sees: open while the condition holds.
CREATE TABLE console_alerts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id token NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('sl_at_risk', 'no_eligible_worker',
                'worker_not_responding')),
    subject     text NOT NULL, -- the queue pool/skill/channel or the worker
    details     jsonb NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);
CREATE UNIQUE INDEX console_alerts_open ON console_alerts (operator_id, kind, subject)
    WHERE closed_at IS NULL;

-- Every operator action taken through the console, with its reason and
-- the dispatcher's reply.
CREATE TABLE console_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id      text NOT NULL,
    operator_id token NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL,
    reason      text NOT NULL,
    request     jsonb NOT NULL,
    reply       jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A task's queue: the primary skill of its step (the highest required
-- level, ties by name; "none" without skills), its channel, and the pool
-- that served it: the accepting or offered worker's pool, else the
-- contracted pool with the most workers able to take the step.
CREATE FUNCTION console_task_pool(t_id bigint, t_worker token, t_tenant token,
                                  t_case_type token, t_skill text,
                                  t_level int, t_ai_mode text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT w.pool_id FROM workers w WHERE w.id = t_worker),
        (SELECT w.pool_id FROM reservations r JOIN workers w ON w.id = r.worker_id
          WHERE r.task_id = t_id ORDER BY r.id DESC LIMIT 1),
        (SELECT ct.pool_id FROM contracts ct
           JOIN contract_case_types cc ON cc.contract_id = ct.id
          WHERE ct.tenant_id = t_tenant AND ct.active AND cc.case_type = t_case_type
          ORDER BY (SELECT count(*) FROM workers w
                      JOIN worker_skills ws ON ws.worker_id = w.id AND ws.skill = t_skill
                     WHERE w.pool_id = ct.pool_id
                       AND greatest(ws.level, CASE WHEN t_ai_mode = 'none' THEN 0
                                              ELSE ws.ai_level END) >= t_level) DESC,
                   ct.pool_id
          LIMIT 1),
        '-')
$$;

-- The figures of the interval [i_start, i_start + 15 min) per queue, from
-- the tasks with an id of at least i_low. The rollup stores them; the
-- console also reads the open interval through it for "now" figures.
CREATE FUNCTION console_interval_figures(i_start timestamptz, i_low bigint)
RETURNS TABLE (interval_start timestamptz, pool_id text, skill text,
               channel text, offered int, accepted int, handled int,
               expired int, answered_in_sl int, wait_sum_ms bigint,
               wait_p90_ms bigint, handle_sum_ms bigint, threshold_s int)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT i_start AS lo, i_start + interval '15 minutes' AS hi),
    t AS (
        SELECT t.id, t.state, t.ready_at, t.assigned_at, t.completed_at,
               t.worker_id, t.tenant_id, c.case_type, s.channel, s.ai_mode,
               COALESCE((SELECT k.key FROM jsonb_each_text(s.skills) k
                          ORDER BY k.value::int DESC, k.key LIMIT 1), 'none')
                   AS skill,
               s.skills
          FROM b, tasks t
          JOIN cases c ON c.id = t.case_id
          JOIN playbook_steps s
            ON s.tenant_id = t.tenant_id AND s.case_type = c.case_type
           AND s.version = c.playbook_version AND s.step = t.step
         WHERE t.id >= i_low
           AND t.state NOT IN ('waiting', 'skipped')
           AND ((t.ready_at >= b.lo AND t.ready_at < b.hi)
             OR (t.assigned_at >= b.lo AND t.assigned_at < b.hi)
             OR (t.completed_at >= b.lo AND t.completed_at < b.hi))),
    q AS (
        SELECT t.*,
               console_task_pool(t.id, t.worker_id, t.tenant_id, t.case_type,
                   t.skill, COALESCE((t.skills ->> t.skill)::int, 0),
                   t.ai_mode) AS pool,
               (t.ready_at >= b.lo AND t.ready_at < b.hi) AS is_offered,
               (t.assigned_at >= b.lo AND t.assigned_at < b.hi) AS is_accepted,
               (t.state IN ('completed', 'wrapping') AND t.assigned_at IS NOT NULL
                AND t.completed_at >= b.lo AND t.completed_at < b.hi) AS is_handled,
               (t.state = 'canceled' AND t.completed_at >= b.lo
                AND t.completed_at < b.hi) AS is_expired,
               (extract(epoch FROM t.assigned_at - t.ready_at) * 1000)::bigint
                   AS wait_ms,
               (extract(epoch FROM t.completed_at - t.assigned_at) * 1000)::bigint
                   AS handle_ms
          FROM t, b),
    p AS (
        SELECT q.*, COALESCE(ps.threshold_s, 20) AS thr
          FROM q LEFT JOIN console_pool_settings ps ON ps.pool_id = q.pool)
    SELECT i_start, p.pool, p.skill, p.channel,
           count(*) FILTER (WHERE is_offered)::int,
           count(*) FILTER (WHERE is_accepted)::int,
           count(*) FILTER (WHERE is_handled)::int,
           count(*) FILTER (WHERE is_expired)::int,
           count(*) FILTER (WHERE is_accepted AND wait_ms <= thr * 1000)::int,
           COALESCE(sum(wait_ms) FILTER (WHERE is_accepted), 0)::bigint,
           (percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_ms)
               FILTER (WHERE is_accepted))::bigint,
           COALESCE(sum(handle_ms) FILTER (WHERE is_handled), 0)::bigint,
           min(thr)::int
      FROM p
     GROUP BY p.pool, p.skill, p.channel
    HAVING count(*) FILTER (WHERE is_offered OR is_accepted OR is_handled
                                  OR is_expired) > 0
$$;

-- Whether operator op serves a tenant's case type: one of its pools holds
-- a contract of the tenant covering it. An operator sees exactly these
-- tasks and cases (without the customer's personal data).
CREATE FUNCTION console_operator_serves(op text, tenant text, ctype text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM contracts ct
                     JOIN pools p ON p.id = ct.pool_id
                     JOIN contract_case_types cc ON cc.contract_id = ct.id
                    WHERE p.operator_id = op AND ct.tenant_id = tenant
                      AND cc.case_type = ctype)
$$;
