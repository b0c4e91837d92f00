#!/usr/bin/env bash
# High-availability figures (docs/ha.md), printed as name=value lines on
# stdout, never asserted:
#
#   ha_failover_ms_p50, _p99, _max   from kill -9 of the active dispatcher
#                         to the standby's takeover (the lease log's time
#                         of the new token), over BENCH_HA_KILLS (10) kills
#                         under load
#   ha_e2e_tasks_per_s_N  end-to-end throughput with N = 1, 2, 3 dispatchers
#                         on one PostgreSQL, over three partitions (three
#                         copies of the example world), cases submitted as
#                         fast as possible
#
# Run by scripts/bench.sh (BENCH_HA=0 skips it) or alone. Tunables:
# BENCH_HA_KILLS (10), BENCH_HA_CASES (3000 per throughput run).
set -euo pipefail
export TL_SCRIPT=bench_ha
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

# Every program takes its identity from this run's RUN_DIR/creds; one
# inherited from the caller (scripts/test.sh's suite identity in
# TL_NATS_CREDS) exists on no server of this run.
unset TL_NATS_CREDS TL_CREDS TL_CREDS_DIR TL_NATS_AUTH_EXTRA
kills=${BENCH_HA_KILLS:-10}
cases=${BENCH_HA_CASES:-3000}
run_dir=$TL_ROOT/run/bench_ha

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
export TL_PREFIX=benchha
export TL_LOG=${TL_LOG:-warn}
# As the README sets things up: customer data sealed under a master key,
# every party its own identity (scripts/lib.sh; TL_CREDS_DIR reaches every
# program).
master_key "$run_dir"
"$TL_CLI" migrate >/dev/null
load_and_admit "$run_dir" examples/operator.json examples/bank.json \
    examples/insurer.json >/dev/null

world() { # the example world with every id renamed by SUFFIX
    local sfx=$1 dir=$run_dir/world$1 f
    mkdir -p "$dir"
    for f in operator bank insurer; do
        sed -e "s/\"w0\([0-9][0-9]\)\"/\"w0\1$sfx\"/g" \
            -e "s/frontline/frontline$sfx/g" -e "s/specialist/specialist$sfx/g" \
            -e "s/acme_bpo/acme_bpo$sfx/g" -e "s/jsbank/jsbank$sfx/g" \
            -e "s/hzinsure/hzinsure$sfx/g" "examples/$f.json" >"$dir/$f.json"
    done
    echo "$dir/operator.json $dir/bank.json $dir/insurer.json"
}

n=0
dispatcher() {
    n=$((n + 1))
    bg_start "d$n" "$run_dir/d$n.log" "$TL_DISPATCHER" --id "d$n" --lease-ms 3000
}
owner_of() {
    pg_scalar "SELECT COALESCE(owner, '') FROM ha_leases
               WHERE partition = 'frontline' AND expires_at > clock_timestamp()"
}

# --- failover: kill -9 the active one, a standby takes over ----------------
say "failover: $kills times kill -9 of the active dispatcher under load"
dispatcher
dispatcher
bg_start agent "$run_dir/agent.log" "$TL_AGENT" --workers "$("$TL_CLI" worker list --ids)" --handle-ms 100
setsid "$TL_CLI" feed --cases $((kills * 400)) --rate 60 --id-prefix F \
    >"$run_dir/feed-failover.log" 2>&1 &
feed=$!
: >"$run_dir/failover.ms"
for _ in $(seq 1 "$kills"); do
    for _ in $(seq 1 200); do
        active=$(owner_of)
        [[ -n $active ]] && break
        sleep 0.05
    done
    sleep 2
    tok=$(pg_scalar "SELECT token FROM ha_leases WHERE partition = 'frontline'")
    t0=$(date +%s%3N)
    bg_kill_named "$active"
    dispatcher
    for _ in $(seq 1 400); do
        ms=$(pg_scalar "SELECT COALESCE(round(extract(epoch FROM min(at)) * 1000)::bigint - $t0, -1)
                        FROM ha_lease_log WHERE partition = 'frontline' AND token > $tok")
        [[ $ms -ge 0 ]] && break
        sleep 0.05
    done
    echo "$ms" >>"$run_dir/failover.ms"
    say "  takeover from $active in $ms ms"
done
kill "$feed" 2>/dev/null || true
wait "$feed" 2>/dev/null || true
sort -n "$run_dir/failover.ms" | awk '
    { v[NR] = $1 }
    END {
        p50 = v[int((NR + 1) / 2)]; p99 = v[NR - int(NR / 100)]
        printf "ha_failover_ms_p50=%d\nha_failover_ms_p99=%d\nha_failover_ms_max=%d\nha_failover_kills=%d\n", p50, p99, v[NR], NR
    }'
bg_stop_all

# --- throughput with 1, 2 and 3 dispatchers ---------------------------------
# shellcheck disable=SC2046
admit_more "$run_dir" $(world _b) $(world _c) >/dev/null
bg_start agent "$run_dir/agent2.log" "$TL_AGENT" --workers "$("$TL_CLI" worker list --ids)" --handle-ms 0
for nd in 1 2 3; do
    for _ in $(seq 1 "$nd"); do dispatcher; done
    # Until the partitions are spread (each takes its share in rounds).
    for _ in $(seq 1 200); do
        owners=$(pg_scalar "SELECT count(DISTINCT owner) FROM ha_leases WHERE expires_at > clock_timestamp()")
        free=$(pg_scalar "SELECT count(*) FROM ha_leases WHERE owner IS NULL OR expires_at <= clock_timestamp()")
        [[ $owners -eq $nd && $free -eq 0 ]] && break
        sleep 0.1
    done
    sleep 1
    t0=$(date +%s.%N)
    "$TL_CLI" feed --cases "$cases" --rate 0 --wait --timeout-s 300 --id-prefix "T$nd" \
        >"$run_dir/feed-$nd.log" 2>&1 || true
    t1=$(date +%s.%N)
    done_tasks=$(pg_scalar "SELECT count(*) FROM tasks t JOIN cases c ON c.id = t.case_id
                            WHERE c.external_id LIKE 'T$nd-%' AND t.state = 'completed'")
    awk -v n="$nd" -v t="$done_tasks" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "ha_e2e_tasks_per_s_%d=%.1f\n", n, t / (b - a) }'
    for d in $(seq 1 "$n"); do bg_stop_named "d$d"; done
done
