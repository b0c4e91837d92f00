-- Data key $2 of tenant $1, wrapped by master key $3, rewrapped by master
-- key $4 ($5: the new wrapped key in hex). No row changed: it is not
-- wrapped by $3 (any more).
UPDATE tenant_data_keys
SET master_key_id = $4, wrapped = decode($5, 'hex'), rewrapped_at = now()
WHERE tenant_id = $1 AND key_id = $2::int AND master_key_id = $3
