-- The refusals nats-server logged in the last 24 hours (violations.h), per
-- identity (NULL: a key that is no identity's, or none) and kind, the most
-- frequent first, with the latest subject and when it was; and, on every
-- row, the totals of all of them (more groups than the 100 shown may
-- exist).
-- columns: identity, role, party, kind, count, last_subject, last_at_ms, total_violations, total_refused
SELECT identity, role, party, kind, count(*) AS count,
       (array_agg(subject ORDER BY id DESC))[1] AS last_subject,
       (extract(epoch FROM max(at)) * 1000)::bigint AS last_at_ms,
       COALESCE(sum(count(*)) FILTER (WHERE kind <> 'auth') OVER (), 0)::bigint
           AS total_violations,
       COALESCE(sum(count(*)) FILTER (WHERE kind = 'auth') OVER (), 0)::bigint
           AS total_refused
FROM nats_violations
WHERE at > now() - interval '24 hours'
GROUP BY identity, role, party, kind
ORDER BY count(*) DESC, identity
LIMIT 100
