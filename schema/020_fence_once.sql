-- 020_fence_once.sql: the fence (016) checks each lease once per
-- transaction (docs/performance.md, docs/ha.md "Fencing").
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
    me     text := COALESCE(current_setting('twinline.member', true), '');
    fenced text[];
    todo   text[];
    held   jsonb;
    want   int;
    got    int;
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
    fenced := string_to_array(NULLIF(current_setting('twinline.fenced', true),
                                     ''), ',');
    IF fenced IS NOT NULL AND ARRAY(SELECT p || '=' || COALESCE(held ->> p, '')
                                    FROM unnest(parts) p) <@ fenced THEN
        RETURN;
    END IF;
    todo := ARRAY(SELECT DISTINCT p FROM unnest(parts) p
                  WHERE fenced IS NULL
                     OR p || '=' || COALESCE(held ->> p, '') <> ALL (fenced));
    want := cardinality(todo);
    SELECT count(*) INTO got FROM (
        SELECT 1 FROM ha_leases l
        WHERE l.partition = ANY (todo) AND l.owner = me
          AND l.token = (held ->> l.partition)::bigint
          AND l.expires_at > clock_timestamp()
        FOR SHARE) x;
    IF got < want THEN
        RAISE EXCEPTION USING ERRCODE = 'TL001',
            MESSAGE = 'fenced: dispatcher ' || me
                      || ' holds no current lease of partition '
                      || (SELECT string_agg(p, ', ') FROM unnest(todo) p
                          WHERE NOT EXISTS (
                              SELECT 1 FROM ha_leases l
                              WHERE l.partition = p AND l.owner = me
                                AND l.token = (held ->> p)::bigint
                                AND l.expires_at > clock_timestamp()));
    END IF;
    PERFORM set_config('twinline.fenced',
                       array_to_string(COALESCE(fenced, '{}') || ARRAY(
                           SELECT p || '=' || (held ->> p) FROM unnest(todo) p),
                           ','), true);
END $$;
