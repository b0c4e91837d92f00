-- twinline feed: the cases of this run (external ids starting with $1) and
-- what became of them.
-- columns: open, closed, tasks_done, billed
WITH c AS (SELECT id, state FROM cases
            WHERE starts_with(external_id, $1))
SELECT (SELECT count(*) FROM c WHERE state = 'open') AS open,
       (SELECT count(*) FROM c WHERE state <> 'open') AS closed,
       (SELECT count(*) FROM tasks t JOIN c ON c.id = t.case_id
         WHERE t.state = 'completed') AS tasks_done,
       (SELECT count(*) FROM billable_lines l
          JOIN c ON c.id = l.case_id) AS billed
