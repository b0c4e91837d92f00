-- Revoke a key; a key already revoked or unknown returns no row.
-- columns: id
UPDATE console_keys SET revoked_at = now()
 WHERE id = $1 AND revoked_at IS NULL
RETURNING id
