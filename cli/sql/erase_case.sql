-- Erase case $1 of tenant $2: its sealed personal part and any customer
-- held in plain text are deleted (the billing records, which hold none of
-- them, stay), with $3 the operator's reference ('' for none), and the
-- event case.erased on subject $4 in the same statement.
-- columns: erased_at
WITH e AS (
  UPDATE cases
  SET personal = NULL, customer = '{}'::jsonb, erased_at = now(),
      erase_request = NULLIF($3, '')
  WHERE id = $1::bigint AND tenant_id = $2 AND erased_at IS NULL
  RETURNING id, external_id, tenant_id, erased_at),
o AS (
  INSERT INTO outbox (subject, payload)
  SELECT $4, jsonb_build_object('type', 'case.erased', 'case_id', e.id,
                                'external_id', e.external_id,
                                'tenant', e.tenant_id,
                                'erased_at', e.erased_at)
  FROM e)
SELECT to_char(erased_at, 'YYYY-MM-DD HH24:MI:SS TZ') AS erased_at FROM e
