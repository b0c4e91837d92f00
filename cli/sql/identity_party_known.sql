-- Whether party $2 of role $1 is registered: a tenant, operator or worker
-- of that id; always for the roles without a party.
-- columns: known
SELECT CASE $1
         WHEN 'tenant' THEN EXISTS (SELECT 1 FROM tenants WHERE id = $2)
         WHEN 'operator' THEN EXISTS (SELECT 1 FROM operators WHERE id = $2)
         WHEN 'worker' THEN EXISTS (SELECT 1 FROM workers WHERE id = $2)
         ELSE true
       END AS known
