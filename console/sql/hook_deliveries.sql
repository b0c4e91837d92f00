-- The owner's latest deliveries (of any of its webhooks), at most $3.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object('id', d.id, 'webhook_id', d.webhook_id,
           'event_id', d.event_id, 'event_type', d.event_type, 'state', d.state,
           'attempts', d.attempts, 'last_status', d.last_status,
           'last_error', d.last_error, 'next_attempt_at', d.next_attempt_at,
           'created_at', d.created_at, 'delivered_at', d.delivered_at)
           ORDER BY d.id DESC), '[]')::text AS doc
  FROM (SELECT d.* FROM console_deliveries d
          JOIN console_webhooks w ON w.id = d.webhook_id
         WHERE w.kind = $1 AND w.owner = $2
         ORDER BY d.id DESC LIMIT $3::int) d
