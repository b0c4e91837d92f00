-- A dispatcher starting under id $1 takes back, for $2 ms, the leases an
-- earlier process of that id still holds (it died: ids are unique among
-- live dispatchers), raising each token, so a restart need not wait for
-- them to expire; a process of the old token is fenced.
-- columns: partition, token
UPDATE ha_leases
SET token = token + 1, acquired_at = clock_timestamp(),
    expires_at = clock_timestamp() + $2::int * interval '1 millisecond'
WHERE owner = $1
RETURNING partition, token
