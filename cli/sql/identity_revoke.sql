-- Revoke identity $1's active key. Rows: the key revoked (none when the
-- identity has no active key).
-- columns: role, party, public_key
UPDATE identities SET status = 'revoked', revoked_at = now()
WHERE identity = $1 AND status = 'active'
RETURNING role, COALESCE(party, '-') AS party, public_key
