-- Identities, each key a row, newest key last: only role $1 and party $2
-- when not empty, revoked keys too when $3.
-- columns: identity, role, party, status, public_key, created, revoked
SELECT identity, role, COALESCE(party, '-') AS party, status, public_key,
       to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created,
       COALESCE(to_char(revoked_at, 'YYYY-MM-DD HH24:MI:SS'), '') AS revoked
FROM identities
WHERE ($1 = '' OR role = $1) AND ($2 = '' OR party = $2)
  AND ($3::boolean OR status = 'active')
ORDER BY identity, key_seq
