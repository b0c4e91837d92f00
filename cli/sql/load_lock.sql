-- Every loader serialises on one advisory lock (held to the end of the
-- load's transaction), so two loads of the same playbook cannot both
-- decide they are adding version N.
-- columns: locked
SELECT pg_advisory_xact_lock(7461726001) AS locked
