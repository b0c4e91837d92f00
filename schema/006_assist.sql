-- The assistant's feedback and AI workers with human review (issue 5).
-- Forward-only: never edit this file once merged; add 007_... instead.

-- What the interactive agent showed of the assist panel and what the worker
-- did with it, per reservation. One row per (reservation, suggestion,
-- action): a retried feedback request stores nothing new.
CREATE TABLE assist_feedback (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reservation_id  bigint NOT NULL REFERENCES reservations (id),
    task_id         bigint NOT NULL REFERENCES tasks (id),
    tenant_id       token NOT NULL,
    case_type       token NOT NULL,
    step            token NOT NULL,
    worker_id       token NOT NULL REFERENCES workers (id),
    kind            text NOT NULL CHECK (kind IN ('passage', 'reply', 'model')),
    suggestion      text NOT NULL CHECK (length(suggestion) BETWEEN 1 AND 80),
    action          text NOT NULL
                    CHECK (action IN ('shown', 'opened', 'copied', 'used')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (reservation_id, suggestion, action)
);
CREATE INDEX assist_feedback_report ON assist_feedback (tenant_id, step, kind);

-- The confidence (per mille) an AI worker gave with its outcome, and the
-- outcome's human review: NULL (none), pending, confirmed or overturned.
-- Billing bills an outcome only when review is NULL or confirmed.
ALTER TABLE outcomes
    ADD COLUMN confidence int CHECK (confidence BETWEEN 0 AND 1000),
    ADD COLUMN review text
        CHECK (review IN ('pending', 'confirmed', 'overturned'));

-- Per ai: auto step, when an AI outcome goes to a human: confidence below
-- threshold_permille, or the task falls in the sample (sample_permille of
-- tasks, chosen by a hash of the task id). Without a row: 800 and 100.
CREATE TABLE ai_review_policy (
    tenant_id           token NOT NULL,
    case_type           token NOT NULL,
    step                token NOT NULL,
    threshold_permille  int NOT NULL DEFAULT 800
                        CHECK (threshold_permille BETWEEN 0 AND 1001),
    sample_permille     int NOT NULL DEFAULT 100
                        CHECK (sample_permille BETWEEN 0 AND 1000),
    PRIMARY KEY (tenant_id, case_type, step)
);

-- One review of one AI outcome by the case's review task. reason:
-- low_confidence or sample. replacement: the reviewer's outcome code when
-- overturned.
CREATE TABLE ai_reviews (
    outcome_id      bigint PRIMARY KEY REFERENCES outcomes (id),
    review_task_id  bigint NOT NULL UNIQUE REFERENCES tasks (id),
    reason          text NOT NULL CHECK (reason IN ('low_confidence', 'sample')),
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'confirmed', 'overturned')),
    replacement     token,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
