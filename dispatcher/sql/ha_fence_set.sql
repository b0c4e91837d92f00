-- What this session holds: the member id $1 and the leases $2 (JSON
-- object partition -> token) that the fence triggers (schema 016) check
-- every write against; and how long it may sit idle in a transaction or
-- wait for a lock ($3 ms each), so that a frozen dispatcher's open
-- transaction, whose FOR SHARE locks a takeover waits for, is ended by
-- PostgreSQL well within a lease. Session settings: they outlive the
-- transaction.
-- columns: member, fence, idle, locks
SELECT set_config('twinline.member', $1, false) AS member,
       set_config('twinline.fence', $2, false) AS fence,
       set_config('idle_in_transaction_session_timeout', $3, false) AS idle,
       set_config('lock_timeout', $3, false) AS locks
