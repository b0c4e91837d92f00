-- The events in $1 were acknowledged by JetStream.
UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])
