#!/usr/bin/env bash
# make demo: install what is missing, build the release preset, start a
# private PostgreSQL and nats-server under run/demo, load the example
# operator, bank and insurer, run the dispatcher, billing and ~50 simulated
# workers, feed ~1,000 cases at a realistic pace with live progress, print
# the summary report and stop everything again (also on failure or Ctrl-C).
#
# Tunables (environment): DEMO_CASES (1000), DEMO_RATE (cases/s, 20),
# DEMO_HANDLE_MS (simulated handling time per task, 1000), DEMO_TIMEOUT_S (60).
set -euo pipefail
export TL_SCRIPT=demo
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

cases=${DEMO_CASES:-1000}
rate=${DEMO_RATE:-20}
handle_ms=${DEMO_HANDLE_MS:-1000}
timeout_s=${DEMO_TIMEOUT_S:-60}
run_dir=$TL_ROOT/run/demo

cd "$TL_ROOT"
scripts/deps.sh
build_preset release
bin_paths release
need_bins "$TL_CLI" "$TL_DISPATCHER" "$TL_BILLING" "$TL_AGENT"

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true
    if [[ $rc -ne 0 ]]; then
        say "the demo failed (status $rc); logs are in $run_dir/*.log"
    else
        say "done; logs are in $run_dir/*.log"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -f "$run_dir"/*.log
scripts/services.sh start "$run_dir"
# shellcheck source=/dev/null
. "$run_dir/env"
export TL_PREFIX=${TL_PREFIX:-tl}

"$TL_CLI" migrate
"$TL_CLI" load examples/operator.json examples/bank.json examples/insurer.json

bg_start dispatcher "$run_dir/dispatcher.log" "$TL_DISPATCHER"
bg_start billing "$run_dir/billing.log" "$TL_BILLING"
workers=$("$TL_CLI" worker list --ids | tr -s ' \n' ',,' | sed 's/^,//; s/,$//')
[[ -n $workers ]] || die "no workers are defined; check examples/operator.json"
nworkers=$(tr ',' '\n' <<<"$workers" | grep -c .)
bg_start agent "$run_dir/agent.log" "$TL_AGENT" --workers "$workers" \
    --handle-ms "$handle_ms" --stats-file "$run_dir/agent.stats"
sleep 1
bg_check || die "a service did not start; see $run_dir/*.log"

say "$nworkers simulated workers (about ${handle_ms} ms per task); feeding $cases cases at $rate/s"
fg_run "$TL_CLI" feed --cases "$cases" --rate "$rate" --wait \
    --timeout-s "$timeout_s"

# Cases close before billing has necessarily billed their last outcome.
for _ in $(seq 1 100); do
    unbilled=$(pg_scalar "SELECT count(*) FROM outcomes o WHERE o.billable
        AND NOT EXISTS (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id)")
    [[ $unbilled -eq 0 ]] && break
    sleep 0.1
done
bg_check || die "a service stopped during the demo; see $run_dir/*.log"

echo
fg_run "$TL_CLI" report
