-- The members seen in the last $1 ms and how many unexpired leases each
-- holds, fewest first.
-- columns: id, leases
SELECT m.id, count(l.partition) AS leases
FROM ha_members m
LEFT JOIN ha_leases l ON l.owner = m.id AND l.expires_at > clock_timestamp()
WHERE m.seen_at > clock_timestamp() - $1::int * interval '1 millisecond'
GROUP BY m.id
ORDER BY leases, m.id
