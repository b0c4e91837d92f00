-- 020_hot_path.sql: fewer checks per task on the dispatcher's hot path
-- (docs/performance.md), each with the same effect as before.
--
-- 1. The fence (016) checks each lease once per transaction (docs/ha.md,
-- "Leases and the fence").
--
-- The first write of a transaction to a partition locks that partition's
-- lease row FOR SHARE and checks owner, token and expiry, as before. The
-- lock is held until the transaction ends, so no takeover (an UPDATE of
-- the row) can happen before then: a later statement of the same
-- transaction writing rows of the same partition needs no second look at
-- ha_leases. The partitions checked are kept in the transaction-local
-- setting twinline.fenced as partition=token pairs, the token the
-- session named in twinline.fence then (set_config(..., true): gone at COMMIT or
-- ROLLBACK, and also at a ROLLBACK TO SAVEPOINT past the first check, so
-- the lock and the memory of it end together). A partition not checked
-- yet in this transaction, one of another token, or a row of no partition
-- is checked or refused exactly as 016 does.
CREATE OR REPLACE FUNCTION ha_fence(parts text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    me        text := COALESCE(current_setting('twinline.member', true), '');
    fenced    text[];
    unchecked text[];
    held      jsonb;
    want      int;
    got       int;
BEGIN
    IF me = '' THEN
        RETURN;
    END IF;
    IF array_position(parts, NULL) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'TL001',
            MESSAGE = 'fenced: a row of no partition (dispatcher ' || me || ')';
    END IF;
    held := COALESCE(NULLIF(current_setting('twinline.fence', true), ''),
                     '{}')::jsonb;
    fenced := COALESCE(string_to_array(NULLIF(
                  current_setting('twinline.fenced', true), ''), ','), '{}');
    -- The partitions of parts not checked yet under the token named now.
    unchecked := ARRAY(SELECT DISTINCT p FROM unnest(parts) p
                       WHERE p || '=' || COALESCE(held ->> p, '')
                             <> ALL (fenced));
    want := cardinality(unchecked);
    IF want = 0 THEN
        RETURN;
    END IF;
    SELECT count(*) INTO got FROM (
        SELECT 1 FROM ha_leases l
        WHERE l.partition = ANY (unchecked) AND l.owner = me
          AND l.token = (held ->> l.partition)::bigint
          AND l.expires_at > clock_timestamp()
        FOR SHARE) x;
    IF got < want THEN
        RAISE EXCEPTION USING ERRCODE = 'TL001',
            MESSAGE = 'fenced: dispatcher ' || me
                      || ' holds no current lease of partition '
                      || (SELECT string_agg(p, ', ') FROM unnest(unchecked) p
                          WHERE NOT EXISTS (
                              SELECT 1 FROM ha_leases l
                              WHERE l.partition = p AND l.owner = me
                                AND l.token = (held ->> p)::bigint
                                AND l.expires_at > clock_timestamp()));
    END IF;
    PERFORM set_config('twinline.fenced',
                       array_to_string(fenced || ARRAY(
                           SELECT p || '=' || (held ->> p)
                           FROM unnest(unchecked) p), ','),
                       true);
END $$;

-- 2. released_at (016) is set by a trigger that PostgreSQL now calls only
-- for the update that releases the slot (its WHEN clause, evaluated
-- without calling the function): once per reservation instead of at
-- every change of state.
DROP TRIGGER ha_reservation_released ON reservations;
CREATE TRIGGER ha_reservation_released BEFORE UPDATE OF state ON reservations
    FOR EACH ROW
    WHEN (OLD.state IN ('pending', 'accepted', 'wrapping')
          AND NEW.state NOT IN ('pending', 'accepted', 'wrapping'))
    EXECUTE FUNCTION ha_reservation_released();

-- 3. The ledger's balance check (002) ran once per posting and once per
-- journal entry, each run a call with its own settings (010): three runs
-- for an entry of two postings. A posting of an entry inserted by the
-- same transaction is left to that entry's own check, which runs at the
-- commit, after every posting of the transaction, and looks at all of
-- them; a posting added to an entry of an earlier transaction (or of a
-- savepoint, whose rows carry another xid) is checked as before.
CREATE OR REPLACE FUNCTION ledger_postings_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM journal_entries j
                   WHERE j.id = NEW.entry_id
                     AND j.xmin = xid(pg_current_xact_id())) THEN
        PERFORM ledger_check_entry(NEW.entry_id);
    END IF;
    RETURN NULL;
END;
$$;

-- 4. Every token column (ids of tenants, workers, pools, ...) is checked
-- by the domain's constraint at each insert and update: the same rule as
-- 001's regular expression (1 to 64 characters, each a letter, digit, _
-- or -), said without the regular-expression engine.
ALTER DOMAIN token DROP CONSTRAINT token_check;
ALTER DOMAIN token ADD CONSTRAINT token_check CHECK (
    length(VALUE) BETWEEN 1 AND 64
    AND ltrim(VALUE, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') = '');

-- 5. A billable line and its billable outcome copy their tenant, case,
-- task and worker from the outcome they bill (billing's store, in one
-- statement), whose own keys (outcomes: case, task, worker; cases:
-- tenant) already vouch that those rows exist; none of them can be
-- deleted while the outcome names it. The copies' own foreign keys only
-- repeated those checks, seven per billed outcome. The keys to the
-- outcome, the line, the plan and the operator (which the outcome does
-- not name) stay. Likewise the dispatcher's rows: a routing decision
-- names the task and worker of the reservation it explains (inserted by
-- the same statement, whose keys check both), an outcome the case and
-- the worker of its task (the completion is fenced on the task's worker,
-- and the task's keys check both).
ALTER TABLE billable_lines
    DROP CONSTRAINT billable_lines_tenant_id_fkey,
    DROP CONSTRAINT billable_lines_case_id_fkey,
    DROP CONSTRAINT billable_lines_task_id_fkey,
    DROP CONSTRAINT billable_lines_worker_id_fkey;
ALTER TABLE billable_outcomes
    DROP CONSTRAINT billable_outcomes_tenant_id_fkey,
    DROP CONSTRAINT billable_outcomes_case_id_fkey,
    DROP CONSTRAINT billable_outcomes_worker_id_fkey;
ALTER TABLE routing_decisions
    DROP CONSTRAINT routing_decisions_task_id_fkey,
    DROP CONSTRAINT routing_decisions_worker_id_fkey;
ALTER TABLE outcomes
    DROP CONSTRAINT outcomes_case_id_fkey,
    DROP CONSTRAINT outcomes_worker_id_fkey;
