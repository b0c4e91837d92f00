-- The oldest events not yet published, at most 512.
-- columns: id, subject, payload
SELECT id, subject, payload::text AS payload
FROM outbox
WHERE published_at IS NULL
ORDER BY id
LIMIT 512
