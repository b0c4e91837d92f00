-- twinline worker list --except: the ids of $1 (an array) that name no
-- worker.
-- columns: id
SELECT x.id FROM unnest($1::text[]) AS x(id)
 WHERE NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = x.id)
 ORDER BY x.id
