-- The head of the audit chain: the seq and hash of the last record
-- appended, and the database's clock now (microseconds since 1970 UTC).
-- columns: seq, hash, now_us
SELECT seq, hash, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
       AS now_us
FROM audit_head
