-- 009_handoff_splits.sql: one outcome's worker share split across every
-- worker who handled the case before it (handoffs), not only the worker
-- who recorded the outcome (issue 4, "several workers across handoffs").
-- Such a contributor's row has role 'handoff'; a role may now repeat per
-- outcome with different parties. See docs/billing.md. Forward-only.
ALTER TABLE outcome_splits
    DROP CONSTRAINT outcome_splits_role_check,
    ADD CONSTRAINT outcome_splits_role_check
        CHECK (role IN ('platform', 'operator', 'worker', 'ai_worker',
                        'handoff')),
    DROP CONSTRAINT outcome_splits_pkey,
    ADD PRIMARY KEY (outcome_id, role, party);
