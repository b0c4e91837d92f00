-- The operator's audited actions, newest first, at most $2.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object('id', a.id, 'key', a.key_id,
           'action', a.action, 'target', a.target, 'reason', a.reason,
           'request', a.request, 'reply', a.reply, 'created_at', a.created_at)
           ORDER BY a.id DESC), '[]')::text AS doc
  FROM (SELECT * FROM console_audit WHERE operator_id = $1::text
         ORDER BY id DESC LIMIT $2::int) a
