-- twinline keys list: every data key with the master key that wraps it and
-- how many cases are sealed under it.
-- columns: tenant_id, key_id, master_key_id, created_at, rewrapped_at, cases
SELECT k.tenant_id, k.key_id, k.master_key_id,
       to_char(k.created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at,
       COALESCE(to_char(k.rewrapped_at, 'YYYY-MM-DD HH24:MI:SS'), '')
         AS rewrapped_at,
       COALESCE(n.cases, 0) AS cases
FROM tenant_data_keys k
LEFT JOIN (SELECT tenant_id, seal_key_id(personal) AS key_id, count(*) AS cases
           FROM cases WHERE personal IS NOT NULL
           GROUP BY 1, 2) n
  ON n.tenant_id = k.tenant_id AND n.key_id = k.key_id
ORDER BY k.tenant_id, k.key_id
