#!/usr/bin/env bash
# Recovery figures, printed as name=value lines on stdout, never asserted:
#
#   recovery_s_1m_tasks     from the start of a dispatcher to its readiness
#                           (the "serving ..." log line: routing state loaded,
#                           requests taken) with BENCH_RECOVERY_TASKS open
#                           tasks in PostgreSQL (1,000,000; the name keeps
#                           "1m" whatever the count, the count is printed)
#   recovery_rebuild_ms     of that, the routing state's load (the
#                           dispatcher's own "routing state loaded ... in N
#                           ms")
#   recovery_tasks          open tasks the dispatcher loaded
#   recovery_query_ms       of the load, the open-tasks query alone
#                           (dispatcher/sql/open_tasks.sql under EXPLAIN
#                           ANALYZE afterwards; its plan in
#                           run/bench_recovery/open_tasks.plan)
#   recovery_rss_mb         the dispatcher's resident memory once ready
#   recovery_generate_s     how long generating the tasks took (not part of
#                           the figure)
#
# The open tasks are made directly in PostgreSQL: one case per task, spread
# over the example tenants' case types (their latest playbooks), priorities
# 0-9, each case's first step pending and ready within the last 5 minutes
# (its later steps are not made: waiting tasks are not loaded). Nobody is
# online, so nothing is routed meanwhile.
#
# Run by scripts/bench.sh when BENCH_RECOVERY=1, or alone (takes 1-3 min:
# most of it generating the rows). Tunable: BENCH_RECOVERY_TASKS.
set -euo pipefail
export TL_SCRIPT=bench_recovery
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

tasks=${BENCH_RECOVERY_TASKS:-1000000}
run_dir=$TL_ROOT/run/bench_recovery

cd "$TL_ROOT"
if [[ -z ${TL_BUILD_DIR:-} ]]; then
    build_preset release
fi
bin_paths release

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true
    [[ $rc -eq 0 ]] || say "failed (status $rc); logs are in $run_dir/"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$run_dir"
rm -rf "${run_dir:?}"/*
scripts/services.sh start "$run_dir" >&2
# shellcheck source=/dev/null
. "$run_dir/env"
master_key "$run_dir"
export TL_PREFIX=benchrec
"$TL_CLI" migrate >&2
load_and_admit "$run_dir" examples/operator.json examples/bank.json \
    examples/insurer.json >&2

say "generating $tasks open tasks in PostgreSQL"
t0=$(date +%s.%N)
pg_scalar "
    CREATE TEMP TABLE k AS
        SELECT row_number() OVER (ORDER BY tenant_id, case_type) - 1 AS i,
               tenant_id, case_type, version
        FROM (SELECT DISTINCT ON (tenant_id, case_type) tenant_id, case_type,
                     version
              FROM playbooks WHERE case_type <> 'consumer_review'
              ORDER BY tenant_id, case_type, version DESC) p;
    INSERT INTO cases (tenant_id, external_id, case_type, playbook_version,
                       priority, payload)
    SELECT k.tenant_id, 'rec-' || g, k.case_type, k.version, g % 10,
           jsonb_build_object('n', g)
    FROM generate_series(1, $tasks) g
    JOIN k ON k.i = g % (SELECT count(*) FROM k);
    INSERT INTO tasks (case_id, tenant_id, step, state, ready_at, sla_due_at)
    SELECT c.id, c.tenant_id, s.step, 'pending',
           now() - (c.id % 300000) * interval '1 ms',
           now() + make_interval(secs => s.sla_seconds)
    FROM cases c
    JOIN playbook_steps s ON s.tenant_id = c.tenant_id
     AND s.case_type = c.case_type AND s.version = c.playbook_version
     AND cardinality(s.after_steps) = 0
    WHERE starts_with(c.external_id, 'rec-');
    ANALYZE cases;
    ANALYZE tasks;" >/dev/null
t1=$(date +%s.%N)
open=$(pg_scalar "SELECT count(*) FROM tasks WHERE state = 'pending'")
say "$open pending tasks made in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

log=$run_dir/dispatcher.log
start=$(date +%s.%N)
TL_LOG=info bg_start dispatcher "$log" "$TL_DISPATCHER" \
    --creds "$TL_CREDS/dispatcher.creds"
ready=
for _ in $(seq 1 1200); do
    if grep -q "serving " "$log" 2>/dev/null; then
        ready=$(date +%s.%N)
        break
    fi
    bg_check || die "the dispatcher stopped; see $log"
    sleep 0.05
done
[[ -n $ready ]] || die "the dispatcher was not ready within 60 s; see $log"
pid=${TL_BG_PIDS[-1]}
rss=$(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ' || true)
rebuild=$(sed -n 's/.*routing state loaded: .* \([0-9][0-9]*\) open tasks .* in \([0-9][0-9]*\) ms.*/\1 \2/p' "$log" | head -1)

# The open-tasks query alone, as the rebuild runs it (the session is no
# dispatcher, so every tenant's tasks, as the one dispatcher's).
psql -X -q -A -t "$TL_DB" -c "EXPLAIN (ANALYZE, BUFFERS)
    $(grep -v '^--' dispatcher/sql/open_tasks.sql)" >"$run_dir/open_tasks.plan"
query_ms=$(sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p' "$run_dir/open_tasks.plan")

echo "recovery_tasks=${rebuild%% *}"
echo "recovery_s_1m_tasks=$(awk -v a="$start" -v b="$ready" 'BEGIN { printf "%.2f", b - a }')"
echo "recovery_rebuild_ms=${rebuild##* }"
echo "recovery_query_ms=${query_ms:-}"
echo "recovery_rss_mb=$(awk -v k="${rss:-0}" 'BEGIN { printf "%.0f", k / 1024 }')"
echo "recovery_generate_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
