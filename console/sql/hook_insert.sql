-- The owner's new webhook.
-- columns: id, created_at
INSERT INTO console_webhooks (kind, owner, url, secret)
VALUES ($1, $2, $3, $4)
RETURNING id, created_at::text
