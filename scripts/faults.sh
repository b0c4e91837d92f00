#!/usr/bin/env bash
# Fault drill on the real programs: while cases flow (dispatcher, billing and
# 50 simulated workers), kill -9 the dispatcher, restart PostgreSQL, restart
# nats-server, kill -9 billing and freeze a worker agent past its lease
# (SIGSTOP). Then check, from the database, that every case the bank got an
# "ok" for is closed, no task was held by two workers, every billable outcome
# was billed exactly once and every event was published. Exits 1 if any
# check fails. Run by scripts/test.sh; alone: scripts/faults.sh.
#
# Uses TL_BUILD_DIR if set, else builds the release preset.
set -euo pipefail
export TL_SCRIPT=faults
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

cd "$TL_ROOT"
run_dir=$TL_ROOT/run/faults
if [[ -z ${TL_BUILD_DIR:-} ]]; then
    build_preset release
fi
bin_paths release
need_bins "$TL_CLI" "$TL_DISPATCHER" "$TL_BILLING" "$TL_AGENT"

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bg_stop_all
    kill -CONT "${frozen_pid:-0}" 2>/dev/null || true
    [[ -n ${frozen_pid:-} ]] && kill "$frozen_pid" 2>/dev/null || true
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true
    [[ $rc -ne 0 ]] && say "failed (status $rc); logs are in $run_dir/*.log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -f "$run_dir"/*.log
scripts/services.sh start "$run_dir" >/dev/null
# shellcheck source=/dev/null
. "$run_dir/env"
master_key "$run_dir"
export TL_PREFIX=faults
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

"$TL_CLI" migrate >/dev/null
# Every party connects as its own identity (docs/security.md).
load_and_admit "$run_dir" examples/operator.json examples/bank.json \
    examples/insurer.json >/dev/null

dispatcher_args=(--lease-ms 2000 --offer-timeout-ms 3000 --stream-mb 64
    --creds "$TL_CREDS/dispatcher.creds")
billing_args=(--creds "$TL_CREDS/billing.creds")
bg_start dispatcher "$run_dir/dispatcher.log" "$TL_DISPATCHER" "${dispatcher_args[@]}"
bg_start billing "$run_dir/billing.log" "$TL_BILLING" "${billing_args[@]}"
workers=$("$TL_CLI" worker list --ids)
# One agent process per half of the workers, so one can be frozen.
first=$(tr ',' '\n' <<<"$workers" | head -25 | paste -sd,)
rest=$(tr ',' '\n' <<<"$workers" | tail -n +26 | paste -sd,)
bg_start agent1 "$run_dir/agent1.log" "$TL_AGENT" --workers "$first" \
    --creds-dir "$TL_CREDS" --handle-ms 150
"$TL_AGENT" --workers "$rest" --creds-dir "$TL_CREDS" --handle-ms 150 \
    >"$run_dir/agent2.log" 2>&1 &
frozen_pid=$!
sleep 1

setsid "$TL_CLI" feed --cases 1200 --rate 60 --wait --timeout-s 90 \
    --creds-dir "$TL_CREDS" --id-prefix F >"$run_dir/feed.log" 2>&1 &
feed_pid=$!

sleep 3
say "kill -9 the dispatcher"
bg_kill_named dispatcher
sleep 0.5
bg_start dispatcher "$run_dir/dispatcher.log.2" "$TL_DISPATCHER" "${dispatcher_args[@]}"

sleep 3
say "restart PostgreSQL"
pg_home=$(dirname "$(readlink -f "$run_dir/postgres.log")")
if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_home/data" -m fast -w restart -l "$pg_home/postgres.log" >/dev/null
else
    "$pg_bin/pg_ctl" -D "$pg_home/data" -m fast -w restart -l "$pg_home/postgres.log" >/dev/null
fi

sleep 3
say "restart nats-server"
kill "$(cat "$run_dir/nats.pid")"
sleep 1
nats-server -c "$run_dir/nats.conf" >>"$run_dir/nats.log" 2>&1 &
echo $! >"$run_dir/nats.pid"

sleep 3
say "kill -9 billing"
bg_kill_named billing
bg_start billing "$run_dir/billing.log.2" "$TL_BILLING" "${billing_args[@]}"

sleep 2
say "freeze half of the workers past their lease (SIGSTOP for 4 s)"
kill -STOP "$frozen_pid"
sleep 4
kill -CONT "$frozen_pid"

rc=0
wait "$feed_pid" || rc=$?
tail -1 "$run_dir/feed.log" >&2
: "$rc" # submissions refused during an outage are the bank's to retry

# Let billing and the outbox catch up after the last case closed.
for _ in $(seq 1 150); do
    left=$(pg_scalar "SELECT (SELECT count(*) FROM outcomes o WHERE o.billable
        AND NOT EXISTS (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id))
        + (SELECT count(*) FROM outbox WHERE published_at IS NULL)
        + (SELECT count(*) FROM cases WHERE state = 'open')")
    [[ $left -eq 0 ]] && break
    sleep 0.2
done

failed=0
check() {
    local what=$1 sql=$2 got
    got=$(pg_scalar "$sql")
    if [[ $got == 0 ]]; then
        printf 'faults: ok   %s\n' "$what"
    else
        printf 'faults: FAIL %s (%s)\n' "$what" "$got"
        failed=1
    fi
}
accepted=$(grep -o 'accepted ([0-9]* new)' "$run_dir/feed.log" | tail -1 | tr -dc 0-9)
cases=$(pg_scalar "SELECT count(*) FROM cases")
say "$cases cases stored (the bank was told ok for ${accepted:-?} new ones)"
check "every accepted case is stored" "SELECT GREATEST(${accepted:-0} - $cases, 0)"
check "every case is closed" "SELECT count(*) FROM cases WHERE state <> 'closed'"
check "no task held by two workers" "SELECT count(*) FROM (SELECT task_id
    FROM reservations WHERE state IN ('accepted', 'completed')
    GROUP BY task_id HAVING count(*) > 1) x"
check "one outcome per completed task" "SELECT count(*) FROM tasks t
    WHERE t.state = 'completed' AND NOT EXISTS
    (SELECT 1 FROM outcomes o WHERE o.task_id = t.id)"
check "every billable outcome billed" "SELECT count(*) FROM outcomes o
    WHERE o.billable AND NOT EXISTS
    (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id)"
check "nothing billed twice" "SELECT count(*) - count(DISTINCT outcome_id)
    FROM billable_lines"
check "every event published" "SELECT count(*) FROM outbox WHERE published_at IS NULL"
if [[ $failed -ne 0 ]]; then
    exit 1
fi
printf 'faults: %s passed, 0 failed\n' 7
