-- Whether tenant $1 exists and its highest data key id (0: none).
-- columns: tenant_exists, max_key_id
SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1) AS tenant_exists,
       COALESCE((SELECT max(key_id) FROM tenant_data_keys
                 WHERE tenant_id = $1), 0) AS max_key_id
