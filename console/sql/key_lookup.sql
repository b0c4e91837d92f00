-- The key a request presents, by its public id.
-- columns: kind, owner, hash, revoked
SELECT kind, owner, encode(hash, 'hex') AS hash, revoked_at IS NOT NULL AS revoked
  FROM console_keys WHERE id = $1
