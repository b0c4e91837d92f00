-- The audit records that pass every filter given, oldest first: party $1
-- (the whole party, its role or its id; '' for any), case $2 (0 for any),
-- at or after $3 and before $4 (timestamps; '' for no bound); the newest
-- $5 of them.
-- columns: seq, at, party, identity, action, subjects, details
SELECT seq, at, party, identity, action, subjects, details
FROM (
  SELECT seq,
         to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
         party, identity, action, subjects, details
  FROM audit_log
  WHERE ($1 = '' OR party = $1 OR split_part(party, ':', 1) = $1
         OR (strpos(party, ':') > 0
             AND substr(party, strpos(party, ':') + 1) = $1))
    AND ($2::bigint = 0
         OR substring(subjects FROM '(?:^| )case:([0-9]+)(?: |$)')
            = ($2::bigint)::text)
    AND ($3 = '' OR at >= nullif($3, '')::timestamptz)
    AND ($4 = '' OR at < nullif($4, '')::timestamptz)
  ORDER BY seq DESC
  LIMIT $5::int) x
ORDER BY seq
