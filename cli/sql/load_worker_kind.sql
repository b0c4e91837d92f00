-- twinline load: the kind of worker $1 (no row: no such worker).
-- columns: kind
SELECT kind FROM workers WHERE id = $1
