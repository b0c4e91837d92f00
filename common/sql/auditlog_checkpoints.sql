-- Every signed checkpoint of the audit trail, in seq order.
-- columns: seq, hash, at_us, signer, signature
SELECT seq, hash, (extract(epoch FROM at) * 1000000)::bigint AS at_us,
       signer, signature
FROM audit_checkpoints
ORDER BY seq
