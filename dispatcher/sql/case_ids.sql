-- $1 new case ids, drawn before the cases are written because a case's
-- sealed personal part is bound to its id (common/keystore.h). An id of a
-- case that turns out to exist already is never used.
-- columns: id
SELECT nextval(pg_get_serial_sequence('cases', 'id')) AS id
FROM generate_series(1, $1::int)
