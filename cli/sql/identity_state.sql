-- Identity $1: its role and party, and whether it has an active key (no
-- row: no such identity).
-- columns: role, party, active
SELECT role, COALESCE(party, '-') AS party,
       bool_or(status = 'active') AS active
FROM identities WHERE identity = $1
GROUP BY role, party
