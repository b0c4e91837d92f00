-- Append records to the audit trail in the caller's transaction (schema
-- 015's audit_append): parties $1, identities $2, actions $3, subjects $4
-- and canonical details $5, one array element per record. The seq and
-- hash of the last record appended.
-- columns: last_seq, last_hash
SELECT last_seq, last_hash
FROM audit_append($1::text[], $2::text[], $3::text[], $4::text[],
                  $5::text[])
