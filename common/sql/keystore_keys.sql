-- Every tenant's data keys, wrapped as stored (common/keystore.h).
-- columns: tenant_id, key_id, master_key_id, wrapped
SELECT tenant_id, key_id, master_key_id, encode(wrapped, 'hex') AS wrapped
FROM tenant_data_keys
ORDER BY tenant_id, key_id
