-- Claim up to $1 due deliveries for $2 seconds (another console, or this
-- one after a crash, takes them over when the claim lapses).
-- columns: id, url, secret, event_id, event_type, body, attempts
UPDATE console_deliveries d
   SET next_attempt_at = now() + make_interval(secs => $2::int)
  FROM console_webhooks w
 WHERE w.id = d.webhook_id
   AND d.id IN (SELECT x.id FROM console_deliveries x
                 WHERE x.state = 'pending' AND x.next_attempt_at <= now()
                 ORDER BY x.next_attempt_at, x.id
                 LIMIT $1::int FOR UPDATE SKIP LOCKED)
RETURNING d.id, w.url, w.secret, d.event_id, d.event_type, d.body, d.attempts
