-- Every active key, for the server's authorization (natsauth.h).
-- columns: identity, role, party, public_key
SELECT identity, role, COALESCE(party, '-') AS party, public_key
FROM identities WHERE status = 'active'
ORDER BY identity
