-- A new API key: only the hash of its secret is stored.
INSERT INTO console_keys (id, kind, owner, name, hash)
VALUES ($1, $2, $3, $4, decode($5, 'hex'))
