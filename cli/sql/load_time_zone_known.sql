-- twinline load: whether $1 is a time zone name PostgreSQL knows (the
-- IANA database it was built with).
-- columns: name
SELECT name FROM pg_timezone_names WHERE name = $1
