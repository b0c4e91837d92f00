-- One console at a time runs the rollup, the samples and the alerts: the
-- one whose session holds this advisory lock ("tconsole" in hex).
-- columns: locked
SELECT pg_try_advisory_lock(x'74636f6e736f6c65'::bigint) AS locked
