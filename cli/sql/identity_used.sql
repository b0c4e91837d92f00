-- Whether identity id $1 was ever used (a row) or not (none): ids are not
-- given out again, so an old log or file never names two identities.
-- columns: used
SELECT 1 AS used FROM identities WHERE identity = $1 LIMIT 1
