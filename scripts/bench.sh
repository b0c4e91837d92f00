#!/usr/bin/env bash
# make bench: end-to-end benchmark on the real services (PostgreSQL with
# fsync on, nats-server with JetStream), with simulated workers that finish
# instantly. Prints one name=value line per figure on stdout; progress and
# notes go to stderr. Figures are printed, never asserted.
#
#   e2e_*                 full load: every case submitted as fast as possible
#   offer_latency_*       the agent's offer latency (ready -> offer received)
#   half_load_*           a second run paced at half the full-load rate
#   pgq_jobs_per_s        a plain PostgreSQL SKIP LOCKED job queue (pgbench)
#   router_*              the matching engine alone (bench/bench_router.c)
#   billing_*, invoice_close_*  rating, ledger posting and invoice close on
#                         the services' PostgreSQL (bench/bench_billing.c)
#   staffing_*, forecast_*  Erlang C/A staffing of a 96-interval day and the
#                         Holt-Winters fit, no services (bench/bench_staffing.c)
#   seal_*                what sealing customer data costs per case: schema
#                         check and split, seal, open and merge, no services
#                         (bench/bench_seal.c)
#   ha_*                  failover time over 10 kills and throughput with 1,
#                         2 and 3 dispatchers (scripts/bench_ha.sh; docs/ha.md)
#   recovery_*            a dispatcher's start with 1,000,000 open tasks in
#                         PostgreSQL until it is ready (scripts/
#                         bench_recovery.sh; only with BENCH_RECOVERY=1: it
#                         takes 1-3 minutes, most of it making the rows)
#   bulk_*                bulk AI work: consumer-review cases submitted in
#                         case.submit_many requests of 1,000, the AI workers
#                         (twinline-agent --ai, 64 slots each) accepting and
#                         completing them in accept_many / complete_many
#                         requests (bench/bench_bulk.c)
#   peer_graphile_*       graphile-worker, a Node.js job queue, on the same
#                         PostgreSQL in a database of its own: N jobs added
#                         and then drained unbatched and batched, and a
#                         pickup latency at a paced rate (bench/peer/peer.mjs;
#                         optional: skipped with a note without node/npm or
#                         the npm registry)
#   ratio_*               Twinline's figure over the peer's, from this run
#
# Tunables (environment): BENCH_CASES (10000), BENCH_HALF (1 = do the
# half-load run), BENCH_PGQ_SECONDS (10), BENCH_TIMEOUT_S (300),
# BENCH_BILLING_OUTCOMES (20000), BENCH_HA (1 = run scripts/bench_ha.sh),
# BENCH_BULK (1 = the bulk AI run), BENCH_BULK_CASES (BENCH_CASES),
# BENCH_RECOVERY (0; 1 = run scripts/bench_recovery.sh),
# BENCH_RECOVERY_TASKS (1000000), BENCH_PEER (1; 0 = skip the peer),
# BENCH_PEER_JOBS (10000), BENCH_PEER_RATE (300 jobs/s) and
# BENCH_PEER_SECONDS (10) for the paced pickup.
set -euo pipefail
export TL_SCRIPT=bench
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

cases=${BENCH_CASES:-10000}
half=${BENCH_HALF:-1}
pgq_seconds=${BENCH_PGQ_SECONDS:-10}
timeout_s=${BENCH_TIMEOUT_S:-300}
run_dir=$TL_ROOT/run/bench

cd "$TL_ROOT"
scripts/deps.sh
build_preset release
bin_paths release
need_bins "$TL_CLI" "$TL_DISPATCHER" "$TL_BILLING" "$TL_AGENT"
pg_bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -1)

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true
    [[ $rc -eq 0 ]] || say "the benchmark failed (status $rc); logs are in $run_dir/*.log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -f "$run_dir"/*.log "$run_dir"/*.stats "$run_dir"/*.figures
scripts/services.sh start "$run_dir" >&2
# shellcheck source=/dev/null
. "$run_dir/env"
master_key "$run_dir"
export TL_PREFIX=${TL_PREFIX:-tl}
export TL_LOG=${TL_LOG:-warn}
# The benchmark measures the dispatcher, not a tenant's quota: no rate
# limit and no cap of open requests (the feed keeps 1,024 in flight)
# unless the caller sets them (docs/config.md, "Dispatcher quotas").
export TL_QUOTA_RATE=${TL_QUOTA_RATE:-0}
export TL_QUOTA_OPEN=${TL_QUOTA_OPEN:-0}

"$TL_CLI" migrate >&2
# Every party connects as its own identity (docs/security.md).
load_and_admit "$run_dir" examples/operator.json examples/bank.json \
    examples/insurer.json >&2
bg_start dispatcher "$run_dir/dispatcher.log" "$TL_DISPATCHER" \
    --creds "$TL_CREDS/dispatcher.creds"
bg_start billing "$run_dir/billing.log" "$TL_BILLING" \
    --creds "$TL_CREDS/billing.creds"
workers=$("$TL_CLI" worker list --ids | tr -s ' \n' ',,' | sed 's/^,//; s/,$//')
[[ -n $workers ]] || die "no workers are defined; check examples/operator.json"

# stat_of FILE NAME: a value from a name=value file (empty when absent).
stat_of() {
    sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -1
}

wait_billed() {
    local unbilled
    for _ in $(seq 1 300); do
        unbilled=$(pg_scalar "SELECT count(*) FROM outcomes o WHERE o.billable
            AND NOT EXISTS (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id)")
        [[ $unbilled -eq 0 ]] && return 0
        sleep 0.1
    done
    say "warning: $unbilled billable outcomes still unbilled"
}

# run_load NAME CASES RATE LABEL LATENCY_LABEL: one feed run with a fresh
# agent, so its offer latencies cover just this run. Prints the figures.
run_load() {
    local name=$1 n=$2 rate=$3 label=$4 stats=$run_dir/agent-$1.stats
    bg_start "agent-$name" "$run_dir/agent-$name.log" "$TL_AGENT" \
        --workers "$workers" --creds-dir "$TL_CREDS" --handle-ms 0 \
        --stats-file "$stats"
    sleep 1
    bg_check || die "a service did not start; see $run_dir/*.log"
    say "$name: $n cases at rate ${rate} (0 = as fast as possible)"
    if ! fg_run "$TL_CLI" feed --cases "$n" --rate "$rate" --wait \
        --creds-dir "$TL_CREDS" --timeout-s "$timeout_s" \
        --id-prefix "bench-$name" --inflight 1024 >&2; then
        say "the $name run did not finish cleanly; its figures cover what was done"
        failed=1
    fi
    wait_billed
    bg_stop_named "agent-$name"

    pg_scalar "
        WITH c AS (SELECT id, created_at FROM cases
                   WHERE starts_with(external_id, 'bench-$name-')),
             t AS (SELECT count(*) AS n FROM tasks JOIN c ON c.id = tasks.case_id
                   WHERE tasks.state = 'completed'),
             l AS (SELECT count(*) AS n, max(l.created_at) AS last
                   FROM billable_lines l JOIN c ON c.id = l.case_id),
             span AS (SELECT greatest(extract(epoch FROM
                         greatest(l.last, (SELECT max(completed_at) FROM tasks
                                           JOIN c ON c.id = tasks.case_id))
                         - (SELECT min(created_at) FROM c)), 0.001) AS s FROM l)
        SELECT format('${label}cases=%s', (SELECT count(*) FROM c))
        UNION ALL SELECT format('${label}tasks=%s', t.n) FROM t
        UNION ALL SELECT format('${label}billed_lines=%s', l.n) FROM l
        UNION ALL SELECT format('${label}seconds=%s', round(span.s::numeric, 3)) FROM span
        UNION ALL SELECT format('${label}tasks_per_s=%s', round((t.n / span.s)::numeric, 1)) FROM t, span
        UNION ALL SELECT format('${label}cases_per_s=%s', round(((SELECT count(*) FROM c) / span.s)::numeric, 1)) FROM span"
    for q in p50 p90 p99; do
        echo "${5}offer_latency_${q}_ms=$(stat_of "$stats" "offer_latency_${q}_ms")"
    done
}

# The matching engine alone, before the services are loaded: decision
# latency at 1k/10k/100k workers, an exact 1,000 x 1,000 batch, memory.
router_bench=${TL_BUILD_DIR:-$TL_ROOT/build/release}/bench/bench_router
if [[ -x $router_bench ]]; then
    say "router: decisions, batch and memory (bench_router)"
    fg_run "$router_bench" || die "bench_router failed"
else
    say "warning: $router_bench is missing; router figures skipped"
fi

# The staffing library alone (well under a second): a day of 96 intervals
# staffed with Erlang C and Erlang A for 10 to 10,000 agents, one Erlang A
# evaluation, and a forecast fitted to eight weeks.
staffing_bench=${TL_BUILD_DIR:-$TL_ROOT/build/release}/bench/bench_staffing
if [[ -x $staffing_bench ]]; then
    say "staffing: Erlang C/A day plans and the forecast fit (bench_staffing)"
    fg_run "$staffing_bench" || die "bench_staffing failed"
else
    say "warning: $staffing_bench is missing; staffing figures skipped"
fi

# What sealing customer data at rest adds per case (no services): the
# schema check and split of a submit, the seal, and the open and merge of
# an accept reply, over the feed's cases of the example bank.
seal_bench=${TL_BUILD_DIR:-$TL_ROOT/build/release}/bench/bench_seal
if [[ -x $seal_bench ]]; then
    say "sealing: check, seal, open per case (bench_seal)"
    fg_run "$seal_bench" 20000 examples/bank.json || die "bench_seal failed"
else
    say "warning: $seal_bench is missing; sealing figures skipped"
fi

# The billing flow on the services' PostgreSQL, in a database of its own
# (tl_bench_billing, dropped afterwards): rating and ledger posting in
# batches of 256, and an invoice close scaled to a million lines.
billing_bench=${TL_BUILD_DIR:-$TL_ROOT/build/release}/bench/bench_billing
if [[ -x $billing_bench ]]; then
    say "billing: outcomes rated and posted, invoice close (bench_billing)"
    TL_TEST_PG=$TL_TEST_PG fg_run "$billing_bench" "${BENCH_BILLING_OUTCOMES:-20000}" \
        || die "bench_billing failed"
else
    say "warning: $billing_bench is missing; billing figures skipped"
fi

failed=0
run_load full "$cases" 0 e2e_ "" >"$run_dir/full.figures"
cat "$run_dir/full.figures"

if [[ $half == 1 && $failed == 0 ]]; then
    full_rate=$(sed -n 's/^e2e_cases_per_s=//p' "$run_dir/full.figures")
    half_rate=$(awk -v r="${full_rate:-0}" 'BEGIN { printf "%.1f", r / 2 }')
    # About 20 s of load, and no more cases than the full run.
    half_cases=$(awk -v r="$half_rate" -v n="$cases" \
        'BEGIN { c = int(r * 20); if (c > n) c = n; if (c < 100) c = 100; print c }')
    echo "half_load_rate_cases_per_s=$half_rate"
    run_load half "$half_cases" "$half_rate" half_load_ half_load_ \
        >"$run_dir/half.figures"
    cat "$run_dir/half.figures"
fi

# Bulk AI work: the AI pool of examples/ai.json (three AI workers, given
# 64 backoffice slots each, as a model endpoint takes many at once), its
# agent answering in bulk requests, and consumer-review cases submitted in
# case.submit_many requests of 1,000. The dispatcher restarts to load the
# new workers.
bulk_bench=${TL_BUILD_DIR:-$TL_ROOT/build/release}/bench/bench_bulk
if [[ ${BENCH_BULK:-1} != 0 && $failed == 0 && -x $bulk_bench ]]; then
    bulk_cases=${BENCH_BULK_CASES:-$cases}
    say "bulk AI: $bulk_cases consumer-review cases in submit_many requests"
    "$TL_CLI" load --identities "$TL_CREDS" examples/ai.json >&2
    "$TL_CLI" nats-auth >&2
    pg_scalar "UPDATE worker_capacity SET slots = 64
        WHERE worker_id IN ('ai01', 'ai02', 'ai03') AND channel = 'backoffice'" >/dev/null
    bg_stop_named dispatcher
    bg_start dispatcher "$run_dir/dispatcher-bulk.log" "$TL_DISPATCHER" \
        --creds "$TL_CREDS/dispatcher.creds"
    bg_start agent-bulk "$run_dir/agent-bulk.log" "$TL_AGENT" --ai \
        --kb examples/kb/jsbank --workers ai01,ai02,ai03 \
        --creds-dir "$TL_CREDS" --handle-ms 0 \
        --stats-file "$run_dir/agent-bulk.stats"
    sleep 2
    bg_check || die "a service did not start; see $run_dir/*.log"
    fg_run "$bulk_bench" "$bulk_cases" "$TL_CREDS/tenant-jsbank.creds" \
        bench-bulk || { say "the bulk run did not finish cleanly"; failed=1; }
    bg_stop_named agent-bulk
    echo "bulk_ai_agent_bulk_requests=$(stat_of "$run_dir/agent-bulk.stats" bulk_requests)"
    echo "bulk_ai_agent_completed=$(stat_of "$run_dir/agent-bulk.stats" completed)"
elif [[ ${BENCH_BULK:-1} != 0 ]]; then
    say "warning: $bulk_bench is missing or a run failed; bulk figures skipped"
fi

# Baseline: a plain PostgreSQL job queue on the same cluster, driven by
# pgbench. One transaction of the script is one job's life: enqueue, claim
# with FOR UPDATE SKIP LOCKED, complete and record a result, each committed.
bg_stop_all
say "baseline: plain PostgreSQL SKIP LOCKED queue for ${pgq_seconds}s"
pg_scalar "
    CREATE SCHEMA IF NOT EXISTS pgq;
    CREATE TABLE IF NOT EXISTS pgq.jobs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        queue text NOT NULL, payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'queued', locked_by int,
        run_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX IF NOT EXISTS jobs_ready ON pgq.jobs (queue, run_at, id)
        WHERE state = 'queued';
    CREATE TABLE IF NOT EXISTS pgq.results (
        job_id bigint PRIMARY KEY, result jsonb NOT NULL,
        done_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO pgq.jobs (queue, payload)
        SELECT 'cases', jsonb_build_object('n', g) FROM generate_series(1, 100) g;" >/dev/null
cat >"$run_dir/pgq.sql" <<'SQL'
\set n random(1, 1000000)
INSERT INTO pgq.jobs (queue, payload) VALUES ('cases', jsonb_build_object('n', :n));
BEGIN;
UPDATE pgq.jobs SET state = 'running', locked_by = :client_id
 WHERE id = (SELECT id FROM pgq.jobs WHERE queue = 'cases' AND state = 'queued'
             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
 RETURNING id AS job_id \gset
COMMIT;
BEGIN;
UPDATE pgq.jobs SET state = 'done' WHERE id = :job_id;
INSERT INTO pgq.results (job_id, result) VALUES (:job_id, '{"code": "resolved"}');
COMMIT;
SQL
fg_run "$pg_bin/pgbench" -n -c 8 -j 2 -T "$pgq_seconds" -f "$run_dir/pgq.sql" \
    "$TL_DB" >"$run_dir/pgbench.out" 2>"$run_dir/pgbench.log" \
    || die "pgbench failed; see $run_dir/pgbench.log"
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$run_dir/pgbench.out" | head -1)
echo "pgq_jobs_per_s=$(awk -v t="${tps:-0}" 'BEGIN { printf "%.1f", t }')"

# peer_bench: graphile-worker (bench/peer, the version pinned in its lock
# file) on this PostgreSQL, in a database of its own (tl_bench_peer,
# dropped afterwards). A peer that cannot run is a note, not a failure:
# the pgbench queue above is the baseline that needs nothing more.
peer_bench() {
    local dir=$TL_ROOT/bench/peer major
    if [[ ${BENCH_PEER:-1} == 0 ]]; then
        say "peer: skipped (BENCH_PEER=0)"
        return 0
    fi
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "peer: skipped: node or npm is not installed (scripts/deps.sh installs them)"
        return 0
    fi
    major=$(node --version | sed 's/^v\([0-9]*\).*/\1/')
    if [[ ${major:-0} -lt 18 ]]; then
        say "peer: skipped: node $(node --version) is older than 18"
        return 0
    fi
    if [[ ! -f $dir/node_modules/graphile-worker/package.json ||
        ! $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        say "peer: installing graphile-worker in bench/peer (npm ci)"
        if ! (cd "$dir" && timeout 300 npm ci --ignore-scripts --no-audit \
            --no-fund --loglevel=error) >&2; then
            say "peer: skipped: npm ci in bench/peer failed; is the npm registry reachable?"
            return 0
        fi
    fi
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 \
        "$TL_TEST_PG dbname=postgres" \
        -c "DROP DATABASE IF EXISTS tl_bench_peer WITH (FORCE)" \
        -c "CREATE DATABASE tl_bench_peer" >&2
    say "peer: graphile-worker, ${BENCH_PEER_JOBS:-10000} jobs drained, then" \
        "${BENCH_PEER_RATE:-300} jobs/s for ${BENCH_PEER_SECONDS:-10} s"
    if ! fg_run node "$dir/peer.mjs" \
        --db "postgres://postgres@127.0.0.1:$TL_PG_PORT/tl_bench_peer" \
        --jobs "${BENCH_PEER_JOBS:-10000}" --rate "${BENCH_PEER_RATE:-300}" \
        --seconds "${BENCH_PEER_SECONDS:-10}" >"$run_dir/peer.figures"; then
        say "warning: the peer run failed; its figures are incomplete"
    fi
    cat "$run_dir/peer.figures"
    PGOPTIONS="-c client_min_messages=warning" psql -X -q "$TL_TEST_PG dbname=postgres" \
        -c "DROP DATABASE IF EXISTS tl_bench_peer WITH (FORCE)" >&2 || true
}

# ratio NAME NUMERATOR DENOMINATOR: NAME=N/D with two decimals, or nothing
# when either figure is missing or the denominator is zero.
ratio() {
    awk -v name="$1" -v a="$2" -v b="$3" \
        'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%s=%.2f\n", name, a / b }'
}

peer_bench
if [[ -s $run_dir/peer.figures ]]; then
    e2e=$(stat_of "$run_dir/full.figures" e2e_tasks_per_s)
    half_p99=$(stat_of "$run_dir/half.figures" half_load_offer_latency_p99_ms)
    ratio ratio_e2e_to_graphile_drain "$e2e" \
        "$(stat_of "$run_dir/peer.figures" peer_graphile_drain_jobs_per_s)"
    ratio ratio_e2e_to_graphile_batched_drain "$e2e" \
        "$(stat_of "$run_dir/peer.figures" peer_graphile_batched_drain_jobs_per_s)"
    ratio ratio_half_load_offer_p99_to_graphile_pickup_p99 "$half_p99" \
        "$(stat_of "$run_dir/peer.figures" peer_graphile_pickup_p99_ms)"
fi
if [[ ${BENCH_HA:-1} != 0 ]]; then
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true
    TL_BUILD_DIR=${TL_BUILD_DIR:-$TL_ROOT/build/release} scripts/bench_ha.sh || failed=1
fi
if [[ ${BENCH_RECOVERY:-0} != 0 ]]; then
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true
    TL_BUILD_DIR=${TL_BUILD_DIR:-$TL_ROOT/build/release} scripts/bench_recovery.sh || failed=1
fi
if [[ $failed != 0 ]]; then
    say "some runs failed; logs are in $run_dir/*.log"
    exit 1
fi
