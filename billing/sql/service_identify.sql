-- Name this connection twinline-billing in pg_stat_activity, so that
-- `twinline bill report` can tell whether billing is running.
-- columns: application_name
SELECT set_config('application_name', 'twinline-billing', false)
  AS application_name
