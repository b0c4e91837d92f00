-- The newest checkpoint signed by public key $1 (no row: none yet).
-- columns: seq, hash, at_us, signer, signature
SELECT seq, hash, (extract(epoch FROM at) * 1000000)::bigint AS at_us,
       signer, signature
FROM audit_checkpoints
WHERE signer = $1
ORDER BY seq DESC
LIMIT 1
