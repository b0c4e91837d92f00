#!/usr/bin/env bash
# Where the time goes per task at full load (docs/performance.md): one
# end-to-end run as scripts/bench.sh's full load (the example world, the
# simulated workers finishing at once, the feed submitting as fast as it
# can, billing running), on a PostgreSQL with pg_stat_statements. Prints
# name=value lines on stdout, never asserted:
#
#   profile_tasks, profile_seconds, profile_tasks_per_s   the run
#   profile_statements_per_task, profile_rows_per_task    every statement
#                         PostgreSQL ran (pg_stat_statements, track = all:
#                         also those inside functions and triggers, so the
#                         top-level ones are counted with their parts)
#   profile_top_statements_per_task   top-level statements only
#   profile_db_exec_us_per_task       their execution time (PostgreSQL's
#                         side of every program, not the round trips)
#   profile_commit_calls_per_task     COMMITs sent by the programs
#   profile_wal_bytes_per_task        pg_current_wal_lsn() before and after
#   profile_commits_per_s, profile_commits_per_task   pg_stat_database
#   profile_wal_syncs_per_s, profile_wal_syncs_per_task   pg_stat_wal.wal_sync
#   profile_cpu_ms_per_task_<process>  CPU (user + system, /proc) of
#                         postgres (the postmaster and the backends alive at
#                         the end), the dispatcher, billing, the agent, the
#                         feed and nats-server, per completed task
#   profile_cpu_share_<process>  the same as a share of the run's wall time
#                         (1.0 = one core)
#   profile_stage_<stage>_us_per_task  the dispatcher's loop time per task
#                         by batch stage (requests, timers, routing, audit,
#                         commit, send, other; busy = their sum), from the
#                         line it logs at its stop
#   profile_batches, profile_tasks_per_batch, profile_largest_batch_messages
#   profile_offer_latency_p50_ms, _p90_ms, _p99_ms   the agent's offer
#                         latency (task ready -> offer received)
#
# and writes run/bench_profile/statements.txt: the statements by total
# time, with calls, rows and time per task; and run/bench_profile/
# tables.txt: per table, the rows inserted and updated and the bytes it
# holds (indexes and TOAST included) per task.
#
# Run alone (about a minute): scripts/bench_profile.sh. Tunable:
#   BENCH_PROFILE_CASES   cases to submit (5000)
#   BENCH_PROFILE_RATE    cases a second (0: as fast as possible; e.g. half
#                         the full load's rate for a paced run)
#   BENCH_PROFILE_SQL     statements run once after the migration (an
#                         experiment: what would dropping this cost?)
#   BENCH_PROFILE_PG_OPTS more server options (e.g. "-c
#                         session_preload_libraries=auto_explain -c
#                         auto_explain.log_min_duration=1ms")
set -euo pipefail
export TL_SCRIPT=bench_profile
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

cases=${BENCH_PROFILE_CASES:-5000}
rate=${BENCH_PROFILE_RATE:-0}
run_dir=$TL_ROOT/run/bench_profile

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
TL_PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.max=5000 -c pg_stat_statements.track_planning=on -c track_wal_io_timing=on ${BENCH_PROFILE_PG_OPTS:-}" \
    scripts/services.sh start "$run_dir" >&2
# shellcheck source=/dev/null
. "$run_dir/env"
master_key "$run_dir"
export TL_PREFIX=tl
export TL_LOG=${TL_LOG:-warn}
export TL_QUOTA_RATE=0 TL_QUOTA_OPEN=0
"$TL_CLI" migrate >&2
load_and_admit "$run_dir" examples/operator.json examples/bank.json \
    examples/insurer.json >&2
pg_scalar "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
# An experiment's change to the schema, before any program starts
# (BENCH_PROFILE_SQL="DROP INDEX ..." shows what one index costs).
if [[ -n ${BENCH_PROFILE_SQL:-} ]]; then
    pg_scalar "$BENCH_PROFILE_SQL" >/dev/null
fi
# The dispatcher logs its batch stages (info) every 10 s and at its stop.
TL_LOG=info bg_start dispatcher "$run_dir/dispatcher.log" "$TL_DISPATCHER" \
    --creds "$TL_CREDS/dispatcher.creds"
bg_start billing "$run_dir/billing.log" "$TL_BILLING" \
    --creds "$TL_CREDS/billing.creds"
workers=$("$TL_CLI" worker list --ids | tr -s ' \n' ',,' | sed 's/^,//; s/,$//')
bg_start agent "$run_dir/agent.log" "$TL_AGENT" --workers "$workers" \
    --creds-dir "$TL_CREDS" --handle-ms 0 --stats-file "$run_dir/agent.stats"
sleep 1
bg_check || die "a service did not start; see $run_dir/*.log"

# The processes: name=pid (postgres: the postmaster, its children summed).
postmaster=$(head -1 "$(pg_scalar "SHOW data_directory")/postmaster.pid")
nats_pid=$(cat "${TL_NATS_PIDFILE:-/nonexistent}" 2>/dev/null || true)
# cpu_ticks PID...: user + system clock ticks of the processes.
cpu_ticks() {
    local p t=0 v
    for p in "$@"; do
        v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
        t=$((t + v))
    done
    echo "$t"
}
pg_pids() {
    echo "$postmaster $(pgrep -P "$postmaster" | tr '\n' ' ')"
}
# shellcheck disable=SC2046  # word splitting of the pid lists is meant
snapshot() {
    echo "postgres=$(cpu_ticks $(pg_pids))"
    echo "dispatcher=$(cpu_ticks "${TL_BG_PIDS[0]}")"
    echo "billing=$(cpu_ticks "${TL_BG_PIDS[1]}")"
    echo "agent=$(cpu_ticks "${TL_BG_PIDS[2]}")"
    echo "nats=$(cpu_ticks "${nats_pid:-0}")"
}

pg_scalar "SELECT pg_stat_statements_reset(); SELECT pg_stat_reset_shared('wal');" >/dev/null
read -r lsn0 commits0 syncs0 <<<"$(pg_scalar "SELECT pg_current_wal_lsn(),
    (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
    (SELECT wal_sync FROM pg_stat_wal)" | tr '|' ' ')"
snapshot >"$run_dir/cpu0"
t0=$(date +%s.%N)
say "profile: $cases cases at rate $rate a second (0: as fast as possible)"
/usr/bin/time -f "%U %S" -o "$run_dir/feed.time" "$TL_CLI" feed --cases "$cases" \
    --rate "$rate" --wait --creds-dir "$TL_CREDS" --timeout-s 300 \
    --id-prefix prof --inflight 1024 >&2 || say "the feed did not finish cleanly"
t1=$(date +%s.%N)
snapshot >"$run_dir/cpu1"
read -r lsn1 commits1 syncs1 <<<"$(pg_scalar "SELECT pg_current_wal_lsn(),
    (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
    (SELECT wal_sync FROM pg_stat_wal)" | tr '|' ' ')"

tasks=$(pg_scalar "SELECT count(*) FROM tasks t JOIN cases c ON c.id = t.case_id
                   WHERE starts_with(c.external_id, 'prof-') AND t.state = 'completed'")
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
tasks=${tasks:-0}
[[ $tasks -gt 0 ]] || die "no task was completed; see $run_dir/*.log"
per() { awk -v v="$1" -v n="$2" 'BEGIN { printf "%.2f", v / n }'; }

echo "profile_tasks=$tasks"
echo "profile_seconds=$secs"
echo "profile_tasks_per_s=$(per "$tasks" "$secs")"
pg_scalar "SELECT sum(calls), sum(rows) FROM pg_stat_statements" | tr '|' ' ' | {
    read -r calls rows
    echo "profile_statements_per_task=$(per "$calls" "$tasks")"
    echo "profile_rows_per_task=$(per "$rows" "$tasks")"
}
echo "profile_top_statements_per_task=$(per "$(pg_scalar "SELECT sum(calls) FROM pg_stat_statements WHERE toplevel")" "$tasks")"
# Execution time of the top-level statements (every program's), per task.
echo "profile_db_exec_us_per_task=$(per "$(pg_scalar "SELECT sum(total_exec_time) * 1000 FROM pg_stat_statements WHERE toplevel")" "$tasks")"
echo "profile_commit_calls_per_task=$(per "$(pg_scalar "SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements WHERE query ILIKE 'commit%'")" "$tasks")"
wal=$(pg_scalar "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
echo "profile_wal_bytes_per_task=$(per "$wal" "$tasks")"
echo "profile_commits_per_s=$(per "$((commits1 - commits0))" "$secs")"
echo "profile_commits_per_task=$(per "$((commits1 - commits0))" "$tasks")"
echo "profile_wal_syncs_per_s=$(per "$((syncs1 - syncs0))" "$secs")"
echo "profile_wal_syncs_per_task=$(per "$((syncs1 - syncs0))" "$tasks")"
hz=$(getconf CLK_TCK)
while IFS='=' read -r name v1; do
    v0=$(sed -n "s/^$name=//p" "$run_dir/cpu0")
    ms=$(awk -v a="$v0" -v b="$v1" -v hz="$hz" 'BEGIN { printf "%.0f", (b - a) * 1000 / hz }')
    echo "profile_cpu_ms_per_task_$name=$(awk -v m="$ms" -v n="$tasks" 'BEGIN { printf "%.3f", m / n }')"
    echo "profile_cpu_share_$name=$(awk -v m="$ms" -v s="$secs" 'BEGIN { printf "%.2f", m / 1000 / s }')"
done <"$run_dir/cpu1"
read -r fu fs <"$run_dir/feed.time"
feed_ms=$(awk -v u="$fu" -v s="$fs" 'BEGIN { printf "%.0f", (u + s) * 1000 }')
echo "profile_cpu_ms_per_task_feed=$(awk -v m="$feed_ms" -v n="$tasks" 'BEGIN { printf "%.3f", m / n }')"
echo "profile_cpu_share_feed=$(awk -v m="$feed_ms" -v s="$secs" 'BEGIN { printf "%.2f", m / 1000 / s }')"

# The dispatcher's batch stages over the whole run (it logs them when it
# stops; the cpu snapshots above are taken already).
bg_stop_named agent
bg_stop_named dispatcher
for q in p50 p90 p99; do
    echo "profile_offer_latency_${q}_ms=$(sed -n "s/^offer_latency_${q}_ms=//p" "$run_dir/agent.stats" 2>/dev/null | tail -1)"
done
stages=$(grep 'batch stages:' "$run_dir/dispatcher.log" | tail -1 | sed 's/.*batch stages: //; s/"//g')
for kv in $stages; do
    case $kv in
    *=*) key=${kv%%=*} val=${kv#*=} ;;
    ms) [[ -n ${key:-} && $key != batches && $key != messages && $key != largest ]] &&
            echo "profile_stage_${key}_us_per_task=$(awk -v v="$val" -v n="$tasks" 'BEGIN { printf "%.1f", v * 1000 / n }')"
        continue ;;
    *) continue ;;
    esac
    case $key in
    batches) echo "profile_batches=$val"; echo "profile_tasks_per_batch=$(per "$tasks" "$val")" ;;
    largest) echo "profile_largest_batch_messages=$val" ;;
    esac
done

psql -X -q "$TL_DB" -v tasks="$tasks" >"$run_dir/statements.txt" <<'SQL'
\pset pager off
SELECT round(total_exec_time::numeric, 0) AS total_ms,
       round((calls::numeric / :tasks), 3) AS calls_per_task,
       round((rows::numeric / :tasks), 3) AS rows_per_task,
       round((total_exec_time / :tasks * 1000)::numeric, 1) AS us_per_task,
       round((total_plan_time / :tasks * 1000)::numeric, 1) AS plan_us_per_task,
       toplevel AS top,
       left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
FROM pg_stat_statements
ORDER BY total_exec_time DESC
LIMIT 80;
SQL
psql -X -q "$TL_DB" -v tasks="$tasks" >"$run_dir/tables.txt" <<'SQL'
\pset pager off
SELECT relname AS table_name,
       round(n_tup_ins::numeric / :tasks, 2) AS inserts_per_task,
       round(n_tup_upd::numeric / :tasks, 2) AS updates_per_task,
       round(n_tup_hot_upd::numeric / :tasks, 2) AS hot_updates_per_task,
       round(pg_total_relation_size(relid)::numeric / :tasks, 0) AS bytes_per_task,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid) AS indexes
FROM pg_stat_user_tables s
WHERE n_tup_ins + n_tup_upd > 0
ORDER BY pg_total_relation_size(relid) DESC;
SQL
say "statements by time: $run_dir/statements.txt; rows and bytes by table: $run_dir/tables.txt"
