-- Record the refusals read in nats-server's log: kinds $1, public keys $2,
-- subjects $3 and connection names $4, in that order, each with the
-- identity its key is (the key's row, active or revoked, when there is
-- one). Rows: what was recorded, with the identity's status for the log.
-- columns: kind, public_key, identity, role, party, status, subject, client
WITH v AS (
  SELECT v.n, v.kind, v.public_key, v.subject, v.client,
         i.identity, i.role, i.party, i.status
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       WITH ORDINALITY AS v(kind, public_key, subject, client, n)
  LEFT JOIN identities i ON i.public_key = v.public_key),
ins AS (
  INSERT INTO nats_violations (kind, public_key, identity, role, party,
                               subject, client)
  SELECT kind, public_key, identity, role, party, subject, client
  FROM v ORDER BY n)
SELECT kind, public_key, identity, role, party, status, subject, client
FROM v ORDER BY n
