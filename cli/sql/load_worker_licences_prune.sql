-- twinline load: drop worker $1's licences that $2 no longer has; $2 is
-- {"code": "2027-06-30" or null, ...}.
DELETE FROM worker_licences
WHERE worker_id = $1 AND NOT ($2::jsonb ? code)
