-- A new active key for identity $1 of role $2 and party $3 ("-" for the
-- installation's services and admin, which speak for no party), public key
-- $4. An identity with an active key already is a unique violation.
-- columns: key_seq
INSERT INTO identities (identity, role, party, public_key)
VALUES ($1, $2, NULLIF($3, '-'), $4)
RETURNING key_seq
