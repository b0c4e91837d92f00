-- Fairness across the operator's human workers in the month [$2, $3):
-- per worker earnings (its worker and handoff shares of billed outcomes),
-- online hours (the console's samples), tasks and cases per hour; over
-- them the Gini coefficient of earnings per online hour and the
-- coefficient of variation of CPH (both per mille). Workers with less
-- than a minute online are left out.
-- columns: doc
WITH w AS (
    SELECT w.id, w.pool_id FROM workers w JOIN pools p ON p.id = w.pool_id
     WHERE p.operator_id = $1::text AND w.kind = 'human'),
h AS (
    SELECT d.worker_id, sum(d.online_ms) AS online_ms, sum(d.busy_ms) AS busy_ms
      FROM console_worker_days d
     WHERE d.day >= ($2::timestamptz AT TIME ZONE 'UTC')::date
       AND d.day < ($3::timestamptz AT TIME ZONE 'UTC')::date
       AND d.worker_id IN (SELECT id FROM w)
     GROUP BY d.worker_id),
e AS (
    SELECT s.party AS worker_id, b.currency, sum(s.amount_minor) AS earned
      FROM outcome_splits s JOIN billable_outcomes b ON b.outcome_id = s.outcome_id
     WHERE s.role IN ('worker', 'handoff') AND b.state <> 'reversed'
       AND b.outcome_at >= $2::timestamptz AND b.outcome_at < $3::timestamptz
       AND s.party IN (SELECT id FROM w)
     GROUP BY 1, 2),
t AS (
    SELECT t.worker_id, count(*) AS tasks, count(DISTINCT t.case_id) AS cases
      FROM tasks t
     WHERE t.state IN ('completed', 'wrapping') AND t.completed_at >= $2::timestamptz
       AND t.completed_at < $3::timestamptz
       AND t.worker_id IN (SELECT id FROM w)
     GROUP BY 1),
r AS (
    SELECT w.id, w.pool_id, h.online_ms, h.busy_ms,
           COALESCE((SELECT sum(earned) FROM e WHERE e.worker_id = w.id), 0) AS earned,
           (SELECT min(currency) FROM e WHERE e.worker_id = w.id) AS currency,
           COALESCE(t.tasks, 0) AS tasks, COALESCE(t.cases, 0) AS cases,
           COALESCE((SELECT sum(earned) FROM e WHERE e.worker_id = w.id), 0)
               / (h.online_ms / 3600000.0) AS per_hour,
           COALESCE(t.cases, 0) / (h.online_ms / 3600000.0) AS cph
      FROM w JOIN h ON h.worker_id = w.id LEFT JOIN t ON t.worker_id = w.id
     WHERE h.online_ms >= 60000),
o AS (
    SELECT r.*, row_number() OVER (ORDER BY per_hour) AS i, count(*) OVER () AS n
      FROM r)
SELECT json_build_object(
    'since', $2::timestamptz, 'until', $3::timestamptz,
    'workers', (SELECT COALESCE(json_agg(json_build_object('worker', o.id,
        'pool', o.pool_id, 'online_hours', round((o.online_ms / 3600000.0)::numeric, 3),
        'occupancy_permille', CASE WHEN o.online_ms = 0 THEN 0
                                   ELSE (1000 * o.busy_ms / o.online_ms)::int END,
        'earned_minor', o.earned, 'currency', o.currency,
        'earned_per_hour_minor', round(o.per_hour)::bigint,
        'tasks', o.tasks, 'cases', o.cases, 'cph', round(o.cph::numeric, 2))
        ORDER BY o.id), '[]') FROM o),
    'gini_permille', (SELECT CASE WHEN count(*) < 2 OR sum(per_hour) = 0 THEN NULL
        ELSE round(1000 * ((2 * sum(i * per_hour)) / (max(n) * sum(per_hour))
                           - (max(n) + 1.0) / max(n)))::int END FROM o),
    'cph_mean', (SELECT round(avg(cph)::numeric, 2) FROM o),
    'cph_cv_permille', (SELECT CASE WHEN count(*) < 2 OR avg(cph) = 0 THEN NULL
        ELSE round(1000 * stddev_pop(cph) / avg(cph))::int END FROM o))::text AS doc
