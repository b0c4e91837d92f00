-- What this session holds: the member id $1 and the leases $2 (JSON
-- object partition -> token) that the fence triggers (schema 016) check
-- every write against. Session settings: they outlive the transaction.
-- columns: member, fence
SELECT set_config('twinline.member', $1, false) AS member,
       set_config('twinline.fence', $2, false) AS fence
