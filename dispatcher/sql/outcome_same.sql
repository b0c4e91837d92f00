-- Completions of reservations that already have an outcome: for each
-- (outcome $1, code $2, fields $3 as JSON text), numbered n from 1,
-- whether it is the recorded outcome again (the same code and fields,
-- compared as JSON values), and the outcome that stands.
-- columns: n, same, code, fields
SELECT v.n, (o.code = v.code AND o.fields = v.fields::jsonb) AS same,
       o.code, o.fields::text AS fields
FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY
     AS v(outcome_id, code, fields, n)
JOIN outcomes o ON o.id = v.outcome_id
