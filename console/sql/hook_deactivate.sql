-- Retire the owner's webhook (its pending deliveries are still tried).
-- columns: id
UPDATE console_webhooks SET active = false
 WHERE kind = $1 AND owner = $2 AND active
RETURNING id
