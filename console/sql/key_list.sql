-- Every key, newest first, without its hash.
-- columns: id, kind, owner, name, created_at, revoked_at, last_used_at
SELECT id, kind, owner, name,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS created_at,
       COALESCE(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '') AS revoked_at,
       COALESCE(to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '') AS last_used_at
  FROM console_keys
 ORDER BY console_keys.created_at DESC, id
