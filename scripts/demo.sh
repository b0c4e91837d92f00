#!/usr/bin/env bash
# make demo: install what is missing, build the release preset, start a
# private PostgreSQL and nats-server under run/demo, load the example
# operator, bank and insurer, run the dispatcher, billing, the operator's
# console (its URL and an operator key are printed) and ~50 simulated
# workers with 3 on call (examples/reserve.json), feed ~1,000 cases at a
# realistic pace with live progress — the surge makes the console call the
# reserve in, and releases them when it is over — print the call-ups and
# the summary report, then bill the month (scripts/demo_billing.sh:
# disputes, verification, signed invoices, credit notes, statements,
# signature checks and a reconciliation) and stop everything again (also
# on failure or Ctrl-C).
#
# Tunables (environment): DEMO_CASES (1000), DEMO_RATE (cases/s, 25),
# DEMO_HANDLE_MS (simulated handling time per task, 1000), DEMO_TIMEOUT_S (60),
# DEMO_REVIEW_SHARE (percent of cases that are jsbank documents for the AI
# workers' consumer-protection review, 10). DEMO_HOLD=1 keeps everything
# running after the demo, until Ctrl-C, to look around in the console.
#
# DEMO_COMPARE=1 runs the same case stream (same feed seed, DEMO_SEED, 42)
# twice on a fresh database each time: first with case affinity and
# AI-assisted coverage on, then with the dispatcher's --no-affinity
# --no-assist, and prints transfers per case and one-contact resolution side
# by side. DEMO_COMPARE_CASES (300) sets the cases per run.
set -euo pipefail
export TL_SCRIPT=demo
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/demo_billing.sh disable=SC1091
. "$(dirname "$0")/demo_billing.sh"

cases=${DEMO_CASES:-1000}
rate=${DEMO_RATE:-25}
handle_ms=${DEMO_HANDLE_MS:-1000}
timeout_s=${DEMO_TIMEOUT_S:-60}
review_share=${DEMO_REVIEW_SHARE:-10}
run_dir=$TL_ROOT/run/demo
keys=$run_dir/keys

cd "$TL_ROOT"
# The demo needs neither the tests' modules nor their binaries: building
# only the programs halves a first build.
scripts/deps.sh --no-test-modules
build_preset release twinline twinline-dispatcher twinline-billing \
    twinline-agent twinline-console
bin_paths release
TL_CONSOLE=${TL_BUILD_DIR:-$TL_ROOT/build/release}/console/twinline-console
need_bins "$TL_CLI" "$TL_DISPATCHER" "$TL_BILLING" "$TL_AGENT" "$TL_CONSOLE"

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

rm -rf "$run_dir"/*.log "$run_dir"/invoice-* "$keys"
scripts/services.sh start "$run_dir"
# shellcheck source=/dev/null
. "$run_dir/env"
master_key "$run_dir"
export TL_PREFIX=${TL_PREFIX:-tl}

# run_once TAG [DISPATCHER FLAGS...]: load, serve, feed, report into
# $run_dir/report.TAG (kv) and print the report.
run_once() {
    local tag=$1 seed_flags=() sfx
    shift
    # The default demo keeps its log names (dispatcher.log, ...).
    sfx=${tag#demo}
    sfx=${sfx:+.$sfx}
    [[ -n ${DEMO_SEED:-} ]] && seed_flags=(--seed "$DEMO_SEED")
    "$TL_CLI" migrate
    # Every party connects as its own identity (docs/security.md).
    load_and_admit "$run_dir" examples/operator.json examples/bank.json \
        examples/insurer.json examples/ai.json examples/reserve.json

    bg_start dispatcher "$run_dir/dispatcher$sfx.log" "$TL_DISPATCHER" \
        --creds "$TL_CREDS/dispatcher.creds" "$@"
    # The billing service signs the credit notes it issues with this key.
    [[ -f $keys/invoice.key ]] || "$TL_CLI" invoice keygen --out "$keys" >/dev/null
    # It also signs the audit trail's checkpoints, with a key of their own.
    [[ -f $keys/audit.key ]] || "$TL_CLI" audit keygen --out "$keys/audit.key" >/dev/null
    bg_start billing "$run_dir/billing$sfx.log" "$TL_BILLING" --key-dir "$keys" \
        --audit-key "$keys/audit.key" --checkpoint-ms 5000 \
        --creds "$TL_CREDS/billing.creds"
    # The operator's console: dashboard, API and the elastic call-up, which
    # sizes the next interval on the last 30 s of arrivals so that the
    # demo's surge calls the reserve (examples/reserve.json) in.
    rm -f "$run_dir/console.port"
    bg_start console "$run_dir/console$sfx.log" "$TL_CONSOLE" \
        --creds "$TL_CREDS/console.creds" --listen 127.0.0.1:0 \
        --port-file "$run_dir/console.port" --callup-ms 1000 \
        --callup-window-s 30 --callup-hold-s 10
    op_key=$("$TL_CONSOLE" key create --operator acme_bpo --name demo |
        grep -o 'tlk_[A-Za-z0-9_-]*' | head -n 1)
    workers=$(pg_scalar "SELECT string_agg(id, ',' ORDER BY id) FROM workers
        WHERE kind = 'human' AND NOT on_call")
    reserve=$(pg_scalar "SELECT string_agg(id, ',' ORDER BY id) FROM workers
        WHERE kind = 'human' AND on_call")
    ai_workers=$(pg_scalar "SELECT string_agg(id, ',' ORDER BY id) FROM workers
        WHERE kind = 'ai'")
    [[ -n $workers ]] || die "no workers are defined; check examples/operator.json"
    nworkers=$(tr ',' '\n' <<<"$workers" | grep -c .)
    # Simulated people; as reviewers of the AI's work they confirm it
    # (examples/agent-policy.json).
    # Each simulated worker connects with its own identity.
    bg_start agent "$run_dir/agent$sfx.log" "$TL_AGENT" --workers "$workers" \
        --standby "$reserve" \
        --creds-dir "$TL_CREDS" --handle-ms "$handle_ms" \
        --policy examples/agent-policy.json --stats-file "$run_dir/agent.stats"
    # AI workers: the same agent judging documents against jsbank's rules.
    bg_start ai "$run_dir/ai$sfx.log" "$TL_AGENT" --ai --workers "$ai_workers" \
        --creds-dir "$TL_CREDS" --kb examples/kb/jsbank --handle-ms 200 \
        --stats-file "$run_dir/ai.stats"
    sleep 1
    bg_check || die "a service did not start; see $run_dir/*.log"
    for _ in $(seq 1 50); do [[ -s $run_dir/console.port ]] && break; sleep 0.1; done
    say "operator console: http://127.0.0.1:$(cat "$run_dir/console.port" 2>/dev/null)/ (operator key: $op_key)"
    say "on call, waiting offline for a call-up: $reserve"

    say "$nworkers simulated workers (about ${handle_ms} ms per task) and AI workers $ai_workers; feeding $cases cases at $rate/s, ${review_share}% documents for AI review"
    # The banks' cases, each tenant's on its own integration client.
    fg_run "$TL_CLI" feed --cases "$cases" --rate "$rate" --wait \
        --creds-dir "$TL_CREDS" --review-share "$review_share" \
        --timeout-s "$timeout_s" "${seed_flags[@]}"

    # Cases close before billing has necessarily billed their last outcome.
    for _ in $(seq 1 100); do
        unbilled=$(pg_scalar "SELECT count(*) FROM outcomes o WHERE o.billable
            AND (o.review IS NULL OR o.review = 'confirmed') AND NOT EXISTS (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id)")
        [[ $unbilled -eq 0 ]] && break
        sleep 0.1
    done
    bg_check || die "a service stopped during the demo; see $run_dir/*.log"

    echo
    say "elastic call-up: what the console decided and the dispatcher did"
    pg_scalar "SELECT worker_id || ' ' || state || ' at ' ||
        to_char(invited_at, 'HH24:MI:SS') ||
        COALESCE(', released at ' || to_char(released_at, 'HH24:MI:SS'), '') ||
        ': ' || reason FROM callups ORDER BY id"
    echo
    fg_run "$TL_CLI" report
    echo
    fg_run "$TL_CLI" assist report
    "$TL_CLI" report --format kv >"$run_dir/report.$tag"
}

# A fresh database for the second run of a comparison.
reset_db() {
    bg_stop_all
    psql -X -q -v ON_ERROR_STOP=1 "${TL_DB% dbname=*} dbname=postgres" \
        -c "DROP DATABASE IF EXISTS twinline" -c "CREATE DATABASE twinline"
}

kv() { sed -n "s/^$1=//p" "$2"; }

if [[ ${DEMO_COMPARE:-0} != 1 ]]; then
    run_once demo
    billing_finale
    echo
    say "audit: every change of state or money is in the trail; checking it against billing's signed checkpoints"
    fg_run "$TL_CLI" audit checkpoint --key "$keys/audit.key"
    fg_run "$TL_CLI" audit verify --pubkey "$keys/audit.key.pub"
    if [[ ${DEMO_HOLD:-0} == 1 ]]; then
        echo
        say "DEMO_HOLD=1: everything keeps running until Ctrl-C"
        say "  the console: http://127.0.0.1:$(cat "$run_dir/console.port")/ (operator key: $op_key)"
        say "  more cases, from another terminal: . run/demo/env && TL_CREDS_DIR=run/demo/creds build/release/cli/twinline feed --cases 500 --rate 10"
        while bg_check; do
            sleep 1
        done
        die "a service stopped; see $run_dir/*.log"
    fi
    exit 0
fi

cases=${DEMO_COMPARE_CASES:-300}
DEMO_SEED=${DEMO_SEED:-42}
say "comparison: the same $cases cases (seed $DEMO_SEED), affinity and AI-assisted coverage on, then off"
run_once on
reset_db
run_once off --no-affinity --no-assist
echo
printf '%-32s %14s %14s\n' "" "affinity+assist" "both off"
for k in transfers_per_case one_contact_resolution_pct tasks_per_case \
    resolve_p50_s offers_per_task; do
    printf '%-32s %14s %14s\n' "$k" "$(kv "$k" "$run_dir/report.on")" \
        "$(kv "$k" "$run_dir/report.off")"
done
