-- Queue an event for the owner's active webhook; an event already queued
-- for it (same event id) is not queued again.
-- columns: id
INSERT INTO console_deliveries (webhook_id, event_id, event_type, body)
SELECT w.id, $3, $4, $5 FROM console_webhooks w
 WHERE w.kind = $1 AND w.owner = $2 AND w.active
ON CONFLICT (webhook_id, event_id) DO NOTHING
RETURNING id
