-- Record one attempt: $2 delivered (a 2xx reply), else the next attempt
-- after $5 ms doubled per attempt (at most an hour), or failed after $6
-- attempts.
UPDATE console_deliveries
   SET attempts = attempts + 1, last_status = $3::int, last_error = $4,
       state = CASE WHEN $2::boolean THEN 'delivered'
                    WHEN attempts + 1 >= $6::int THEN 'failed'
                    ELSE 'pending' END,
       delivered_at = CASE WHEN $2::boolean THEN now() END,
       next_attempt_at = now() + least(interval '1 hour',
           make_interval(secs => $5::int * power(2, least(attempts, 20)) / 1000.0))
 WHERE id = $1::bigint
