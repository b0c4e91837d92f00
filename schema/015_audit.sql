-- 015_audit.sql: the audit trail in use (issue 10). Appenders (common/
-- auditlog.h) add records with audit_append in the transaction of the
-- change they record; this function links them into schema 011's chain.
-- Forward-only; nothing existing changes.

-- One field of a record's canonical encoding (common/audit.h): its length
-- in bytes (big-endian u32), then its UTF-8 bytes.
CREATE FUNCTION audit_field(s text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT int4send(length(b)) || b FROM (SELECT convert_to(s, 'UTF8') AS b) x
$$;

-- The SHA-256 of a record, byte for byte what audit_hash in common/audit.c
-- computes: "twinline audit v1\0" | seq | at_us | party | identity |
-- action | subjects | details | prev. The verifier recomputes it in C, so
-- the two can never drift apart unnoticed (itest_audit).
CREATE FUNCTION audit_record_hash(seq bigint, at_us bigint, party text,
                                  identity text, action text, subjects text,
                                  details text, prev bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT sha256(convert_to('twinline audit v1', 'UTF8') || '\x00'::bytea
                  || int8send(seq) || int8send(at_us)
                  || audit_field(party) || audit_field(identity)
                  || audit_field(action) || audit_field(subjects)
                  || audit_field(details) || prev)
$$;

-- Append records i = 1..n (the arrays' elements) to the chain: lock its
-- head, give them the next seqs, one time and the links, insert them and
-- move the head, all in the caller's transaction, so the records commit
-- or roll back with the change they record and seq has no gaps. The time
-- is taken after the lock, so seq order is time order. The caller has
-- checked each record (audit_record_check) and made details canonical.
-- Returns the seq and hash of the last record appended.
CREATE FUNCTION audit_append(parties text[], identities text[],
                             actions text[], subjects text[], details text[],
                             OUT last_seq bigint, OUT last_hash bytea)
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(cardinality(parties), 0);
    t timestamptz;
    t_us bigint;
    seqs bigint[] := '{}';
    prevs bytea[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    IF n = 0 OR cardinality(identities) <> n OR cardinality(actions) <> n
       OR cardinality(subjects) <> n OR cardinality(details) <> n THEN
        RAISE EXCEPTION 'audit_append needs 1 or more records with every field (got % parties)', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT h.seq, h.hash INTO last_seq, last_hash FROM audit_head h FOR UPDATE;
    t := clock_timestamp();
    t_us := (extract(epoch FROM t) * 1000000)::bigint;
    FOR i IN 1..n LOOP
        prevs := prevs || last_hash;
        last_seq := last_seq + 1;
        last_hash := audit_record_hash(last_seq, t_us, parties[i],
                                       identities[i], actions[i],
                                       subjects[i], details[i], last_hash);
        seqs := seqs || last_seq;
        hashes := hashes || last_hash;
    END LOOP;
    INSERT INTO audit_log (seq, at, party, identity, action, subjects,
                           details, prev_hash, hash)
    SELECT v.seq, t, v.party, v.identity, v.action, v.subjects, v.details,
           v.prev, v.hash
    FROM unnest(seqs, parties, identities, actions, subjects, details, prevs,
                hashes)
         AS v(seq, party, identity, action, subjects, details, prev, hash);
    UPDATE audit_head SET seq = last_seq, hash = last_hash;
END;
$$;

-- audit show filters by case: the "case:<id>" token of subjects (a record
-- names at most one case).
CREATE INDEX audit_log_case ON audit_log
    ((substring(subjects FROM '(?:^| )case:([0-9]+)(?: |$)')));
