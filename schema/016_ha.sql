-- 016_ha.sql: several dispatchers, one owner per partition (docs/ha.md).
--
-- A partition is a connected component of the contract graph: pools and
-- tenants are its nodes, contracts its edges. A worker's slots are shared
-- by every tenant its pool serves and a tenant's task may go to any pool
-- it has a contract with, so no finer cut lets two dispatchers route
-- without sharing a worker's capacity. Each partition has a lease row with
-- an owner and a fencing token that grows at every takeover; every write a
-- dispatcher makes to cases, tasks, reservations, outcomes and workers is
-- checked against it by the triggers below, so a dispatcher that lost its
-- lease changes nothing. Forward-only.

-- Which partition each pool and tenant is in, kept by ha_map_refresh().
CREATE TABLE ha_partition_map (
    kind      text NOT NULL CHECK (kind IN ('pool', 'tenant')),
    id        token NOT NULL,
    partition text NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX ha_partition_map_partition ON ha_partition_map (partition);

-- One row; version grows whenever the map or a worker's pool changes, so
-- a dispatcher reloads its copy only then.
CREATE TABLE ha_meta (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    map_version bigint NOT NULL DEFAULT 0
);
INSERT INTO ha_meta DEFAULT VALUES;

-- The dispatchers that are running: seen_at is renewed with their leases
-- (PostgreSQL's clock); one not seen for a lease time is gone.
CREATE TABLE ha_members (
    id         token PRIMARY KEY,
    host       text NOT NULL DEFAULT '',
    pid        int NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    seen_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The lease of each partition. owner NULL: free. token is the fencing
-- token: it never decreases, and a change of owner must raise it.
CREATE TABLE ha_leases (
    partition   text PRIMARY KEY,
    owner       token,
    token       bigint NOT NULL DEFAULT 0 CHECK (token >= 0),
    expires_at  timestamptz NOT NULL DEFAULT '-infinity',
    acquired_at timestamptz
);

-- Every takeover: who got which token from whom. (partition, token) is
-- unique, so no token is ever given twice.
CREATE TABLE ha_lease_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partition      text NOT NULL,
    token          bigint NOT NULL,
    owner          token NOT NULL,
    previous_owner token,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (partition, token)
);

CREATE FUNCTION ha_leases_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.token < OLD.token THEN
        RAISE EXCEPTION 'a lease token never decreases (% -> %)',
            OLD.token, NEW.token;
    END IF;
    IF NEW.owner IS NOT NULL AND NEW.owner IS DISTINCT FROM OLD.owner THEN
        IF NEW.token <= OLD.token THEN
            RAISE EXCEPTION 'a takeover of partition % must raise its token',
                NEW.partition;
        END IF;
        INSERT INTO ha_lease_log (partition, token, owner, previous_owner)
        VALUES (NEW.partition, NEW.token, NEW.owner, OLD.owner);
    ELSIF NEW.owner IS NOT NULL AND NEW.token <> OLD.token THEN
        INSERT INTO ha_lease_log (partition, token, owner, previous_owner)
        VALUES (NEW.partition, NEW.token, NEW.owner, OLD.owner);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ha_leases_guard BEFORE UPDATE ON ha_leases
    FOR EACH ROW EXECUTE FUNCTION ha_leases_guard();

-- Recompute the map from pools, tenants and contracts: every node gets the
-- least node it reaches, pools ('0' || id) before tenants ('1' || id), so
-- a partition is named after its first pool, or 'tenant:<id>' for a
-- tenant without a contract. Leases are made for new partitions and
-- dropped for those that are gone.
CREATE FUNCTION ha_map_refresh() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('twinline.ha_map'));
    CREATE TEMP TABLE IF NOT EXISTS ha_map_new (
        kind text, id text, partition text) ON COMMIT DROP;
    TRUNCATE ha_map_new;
    INSERT INTO ha_map_new
    WITH RECURSIVE
    e(a, b) AS (
        SELECT '0' || pool_id, '1' || tenant_id FROM contracts
        UNION SELECT '1' || tenant_id, '0' || pool_id FROM contracts),
    n(x) AS (
        SELECT '0' || id FROM pools UNION SELECT '1' || id FROM tenants),
    r(x, y) AS (
        SELECT x, x FROM n
        UNION SELECT r.x, e.b FROM r JOIN e ON e.a = r.y),
    c(x, least_node) AS (SELECT x, min(y) FROM r GROUP BY x)
    SELECT CASE WHEN left(x, 1) = '0' THEN 'pool' ELSE 'tenant' END,
           substr(x, 2),
           CASE WHEN left(least_node, 1) = '0' THEN substr(least_node, 2)
                ELSE 'tenant:' || substr(least_node, 2) END
    FROM c;
    IF NOT EXISTS (
        (SELECT kind, id::text, partition FROM ha_partition_map
         EXCEPT SELECT kind, id, partition FROM ha_map_new)
        UNION ALL
        (SELECT kind, id, partition FROM ha_map_new
         EXCEPT SELECT kind, id::text, partition FROM ha_partition_map)) THEN
        RETURN;
    END IF;
    DELETE FROM ha_partition_map m
    WHERE NOT EXISTS (SELECT 1 FROM ha_map_new n
                      WHERE n.kind = m.kind AND n.id = m.id);
    INSERT INTO ha_partition_map (kind, id, partition)
    SELECT kind, id, partition FROM ha_map_new
    ON CONFLICT (kind, id) DO UPDATE SET partition = EXCLUDED.partition
    WHERE ha_partition_map.partition <> EXCLUDED.partition;
    INSERT INTO ha_leases (partition)
    SELECT DISTINCT partition FROM ha_partition_map
    ON CONFLICT DO NOTHING;
    DELETE FROM ha_leases l
    WHERE NOT EXISTS (SELECT 1 FROM ha_partition_map m
                      WHERE m.partition = l.partition);
    UPDATE ha_meta SET map_version = map_version + 1;
END $$;

CREATE FUNCTION ha_map_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ha_map_refresh();
    RETURN NULL;
END $$;
CREATE TRIGGER ha_map_pools AFTER INSERT OR UPDATE OR DELETE ON pools
    FOR EACH STATEMENT EXECUTE FUNCTION ha_map_changed();
CREATE TRIGGER ha_map_tenants AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION ha_map_changed();
CREATE TRIGGER ha_map_contracts
    AFTER INSERT OR UPDATE OF tenant_id, pool_id OR DELETE ON contracts
    FOR EACH STATEMENT EXECUTE FUNCTION ha_map_changed();

-- A worker that is new or moves to another pool changes where its
-- messages go: a dispatcher reloads its copy of the map.
CREATE FUNCTION ha_workers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ha_meta SET map_version = map_version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER ha_map_workers AFTER INSERT OR UPDATE OF pool_id ON workers
    FOR EACH STATEMENT EXECUTE FUNCTION ha_workers_changed();

SELECT ha_map_refresh();

-- The partitions this session holds leases for, as the dispatcher last
-- renewed them (the keys of twinline.fence); NULL for a session that is
-- no dispatcher (twinline.member unset), which is not fenced.
CREATE FUNCTION ha_session_partitions() RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN COALESCE(current_setting('twinline.member', true), '')
                     = '' THEN NULL
                ELSE ARRAY(SELECT jsonb_object_keys(COALESCE(NULLIF(
                         current_setting('twinline.fence', true), ''),
                         '{}')::jsonb)) END
$$;

-- The pools this session may route: those of its partitions, or every
-- pool for a session that is no dispatcher.
CREATE FUNCTION ha_my_pools() RETURNS SETOF token
LANGUAGE sql STABLE AS $$
    SELECT m.id FROM ha_partition_map m
    WHERE m.kind = 'pool'
      AND (ha_session_partitions() IS NULL
           OR m.partition = ANY (ha_session_partitions()))
$$;

-- Likewise the tenants.
CREATE FUNCTION ha_my_tenants() RETURNS SETOF token
LANGUAGE sql STABLE AS $$
    SELECT m.id FROM ha_partition_map m
    WHERE m.kind = 'tenant'
      AND (ha_session_partitions() IS NULL
           OR m.partition = ANY (ha_session_partitions()))
$$;

-- The fence: a dispatcher's session may write rows of partitions parts
-- only while it holds each one's lease with the token it names in
-- twinline.fence and the lease has not expired (PostgreSQL's clock at the
-- statement). The lease rows are locked FOR SHARE until the transaction
-- ends, so a takeover (an UPDATE of the row) waits for the writes to
-- commit or roll back, and the new owner loads its state after them.
-- Raises SQLSTATE TL001 otherwise, rolling the whole transaction back.
CREATE FUNCTION ha_fence(parts text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    me   text := COALESCE(current_setting('twinline.member', true), '');
    held jsonb;
    want int;
    got  int;
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
    SELECT count(DISTINCT p) INTO want FROM unnest(parts) p;
    SELECT count(*) INTO got FROM (
        SELECT 1 FROM ha_leases l
        WHERE l.partition = ANY (parts) AND l.owner = me
          AND l.token = (held ->> l.partition)::bigint
          AND l.expires_at > clock_timestamp()
        FOR SHARE) x;
    IF got < want THEN
        RAISE EXCEPTION USING ERRCODE = 'TL001',
            MESSAGE = 'fenced: dispatcher ' || me
                      || ' holds no current lease of partition '
                      || (SELECT string_agg(p, ', ') FROM unnest(parts) p
                          WHERE NOT EXISTS (
                              SELECT 1 FROM ha_leases l
                              WHERE l.partition = p AND l.owner = me
                                AND l.token = (held ->> p)::bigint
                                AND l.expires_at > clock_timestamp()));
    END IF;
END $$;

-- The fence triggers, one statement-level trigger per table and event:
-- the rows a statement wrote name their partitions through their tenant
-- or their worker's pool.
CREATE FUNCTION ha_fence_by_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF COALESCE(current_setting('twinline.member', true), '') <> '' THEN
        PERFORM ha_fence(ARRAY(
            SELECT DISTINCT m.partition FROM ha_new n
            LEFT JOIN ha_partition_map m
              ON m.kind = 'tenant' AND m.id = n.tenant_id));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ha_fence_by_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF COALESCE(current_setting('twinline.member', true), '') <> '' THEN
        PERFORM ha_fence(ARRAY(
            SELECT DISTINCT m.partition FROM ha_new n
            JOIN workers w ON w.id = n.worker_id
            LEFT JOIN ha_partition_map m
              ON m.kind = 'pool' AND m.id = w.pool_id));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ha_fence_by_pool() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF COALESCE(current_setting('twinline.member', true), '') <> '' THEN
        PERFORM ha_fence(ARRAY(
            SELECT DISTINCT m.partition FROM ha_new n
            LEFT JOIN ha_partition_map m
              ON m.kind = 'pool' AND m.id = n.pool_id));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ha_fence_cases_ins AFTER INSERT ON cases
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_tenant();
CREATE TRIGGER ha_fence_cases_upd AFTER UPDATE ON cases
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_tenant();
CREATE TRIGGER ha_fence_tasks_ins AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_tenant();
CREATE TRIGGER ha_fence_tasks_upd AFTER UPDATE ON tasks
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_tenant();
CREATE TRIGGER ha_fence_outcomes_ins AFTER INSERT ON outcomes
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_tenant();
CREATE TRIGGER ha_fence_reservations_ins AFTER INSERT ON reservations
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_worker();
CREATE TRIGGER ha_fence_reservations_upd AFTER UPDATE ON reservations
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_worker();
CREATE TRIGGER ha_fence_workers_upd AFTER UPDATE ON workers
    REFERENCING NEW TABLE AS ha_new
    FOR EACH STATEMENT EXECUTE FUNCTION ha_fence_by_pool();

-- When a reservation stopped holding a slot of its worker (pending,
-- accepted or wrapping to anything else), so that capacity can be checked
-- over time from [created_at, released_at) and not only at the end.
ALTER TABLE reservations ADD COLUMN released_at timestamptz;

CREATE FUNCTION ha_reservation_released() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state IN ('pending', 'accepted', 'wrapping')
       AND NEW.state NOT IN ('pending', 'accepted', 'wrapping') THEN
        NEW.released_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ha_reservation_released BEFORE UPDATE OF state ON reservations
    FOR EACH ROW EXECUTE FUNCTION ha_reservation_released();
