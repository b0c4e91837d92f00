-- The owner's webhook and how its deliveries stand. No row: none set.
-- columns: doc
SELECT json_build_object('id', w.id, 'url', w.url, 'created_at', w.created_at,
           'pending', (SELECT count(*) FROM console_deliveries d
                        WHERE d.webhook_id = w.id AND d.state = 'pending'),
           'delivered', (SELECT count(*) FROM console_deliveries d
                          WHERE d.webhook_id = w.id AND d.state = 'delivered'),
           'failed', (SELECT count(*) FROM console_deliveries d
                       WHERE d.webhook_id = w.id AND d.state = 'failed'))::text AS doc
  FROM console_webhooks w WHERE w.kind = $1 AND w.owner = $2 AND w.active
