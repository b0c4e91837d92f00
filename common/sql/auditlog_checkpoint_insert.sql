-- Store a signed checkpoint: record seq $1 with hash $2, signed at $3
-- (microseconds since 1970 UTC) by public key $4 with signature $5.
INSERT INTO audit_checkpoints (seq, hash, at, signer, signature)
VALUES ($1::bigint, $2::bytea,
        'epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4,
        $5::bytea)
