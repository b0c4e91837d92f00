-- A new data key $2 of tenant $1 wrapped by master key $3 ($4: the
-- wrapped key in hex). No row when the tenant has that key id already
-- (another writer was first: its key stands).
-- columns: key_id
INSERT INTO tenant_data_keys (tenant_id, key_id, master_key_id, wrapped)
VALUES ($1, $2::int, $3, decode($4, 'hex'))
ON CONFLICT (tenant_id, key_id) DO NOTHING
RETURNING key_id
