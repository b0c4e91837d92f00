-- Up to $2 records of the audit trail after seq $1, in seq order, as the
-- chain hashes them (at_us: microseconds since 1970 UTC).
-- columns: seq, at_us, party, identity, action, subjects, details, prev_hash, hash
SELECT seq, (extract(epoch FROM at) * 1000000)::bigint AS at_us, party,
       identity, action, subjects, details, prev_hash, hash
FROM audit_log
WHERE seq > $1::bigint
ORDER BY seq
LIMIT $2::int
