#!/usr/bin/env bash
# Fault drill on the real programs, with two and three dispatchers
# (docs/ha.md). While cases flow (billing and simulated workers):
#
#   1. one partition, an active dispatcher and a standby: kill -9 the
#      active one, then freeze the new active one (SIGSTOP past its lease)
#      and thaw it; restart PostgreSQL; restart nats-server; kill -9
#      billing; freeze half of the workers past their lease; kill -9 an
#      agent and restart it at once (its heartbeats' "held" gives the
#      tasks it lost back);
#   2. every dispatcher killed, two started at the same moment;
#   3. two more partitions loaded under load, a third dispatcher joins and
#      one leaves (SIGTERM): the partitions are rebalanced;
#   with --full also
#   4. a 3-node NATS cluster (scripts/nats_cluster.sh): a node killed with
#      kill -9 and restarted, twice;
#   5. PostgreSQL with a synchronous streaming replica: the primary killed
#      with kill -9 and the replica promoted (pg_ctl promote).
#
# After each, from the database: every case the bank got an "ok" for is
# stored and closed, no task had two holders, no worker was over its slots
# on any channel at any moment (from the reservations' intervals), lease
# tokens and task epochs only increase, one outcome per completed task and
# one billable line per billable outcome, nothing billed twice, every event
# published, nothing left pending; and from tl_reply_watch's record of
# every reply, no request answered twice with different answers. Exits 1
# if any check fails. Run by scripts/test.sh (steps 1-3); make faults runs
# all (--full).
#
# Uses TL_BUILD_DIR if set, else builds the release preset.
set -euo pipefail
export TL_SCRIPT=faults
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

# Every program takes its identity from this run's RUN_DIR/creds; one
# inherited from the caller (scripts/test.sh's suite identity in
# TL_NATS_CREDS) exists on no server of this run.
unset TL_NATS_CREDS TL_CREDS TL_CREDS_DIR TL_NATS_AUTH_EXTRA
full=0
[[ ${1:-} == --full ]] && full=1

cd "$TL_ROOT"
run_dir=$TL_ROOT/run/faults
if [[ -z ${TL_BUILD_DIR:-} ]]; then
    build_preset release
fi
bin_paths release
b=${TL_BUILD_DIR:-$TL_ROOT/build/release}
TL_WATCH=$b/tests/tl_reply_watch
need_bins "$TL_CLI" "$TL_DISPATCHER" "$TL_BILLING" "$TL_AGENT" "$TL_WATCH"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in ${frozen_pids:-}; do kill -CONT "$p" 2>/dev/null || true; done
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true
    [[ $rc -ne 0 ]] && say "failed (status $rc); logs are in $run_dir/"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The pid of the newest job called NAME (scripts/lib.sh's list).
bg_pid_named() {
    local i
    for ((i = ${#TL_BG_PIDS[@]} - 1; i >= 0; i--)); do
        if [[ ${TL_BG_NAMES[$i]} == "$1" ]]; then
            echo "${TL_BG_PIDS[$i]}"
            return 0
        fi
    done
    return 1
}

# A world of its own: the example operator, bank and insurer with every id
# renamed by SUFFIX, so it shares no pool or tenant with the others and
# forms a partition of its own.
make_world() {
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

workers_of() { # the workers whose id ends in SUFFIX ("" for the first world)
    "$TL_CLI" worker list --ids | tr ',' '\n' | grep -E "^w0[0-9][0-9]$1\$" | paste -sd,
}

ndisp=0
start_dispatcher() { # a new dispatcher, named d<N>
    ndisp=$((ndisp + 1))
    bg_start "d$ndisp" "$run_dir/d$ndisp.log" "$TL_DISPATCHER" --id "d$ndisp" \
        "${dispatcher_args[@]}"
    last_dispatcher=d$ndisp
}

# The dispatcher that owns partition P now (from the leases).
owner_of() {
    pg_scalar "SELECT COALESCE(owner, '') FROM ha_leases
               WHERE partition = '$1' AND expires_at > clock_timestamp()"
}

wait_owned_by() { # P D...: until one of the dispatchers D holds P
    local o d
    for _ in $(seq 1 600); do
        o=$(owner_of "$1")
        for d in "${@:2}"; do
            [[ $o == "$d" ]] && return 0
        done
        sleep 0.05
    done
    die "none of ${*:2} took partition $1"
}

wait_owner() { # P [NOT]: until P has an owner other than NOT; prints it
    local o
    for _ in $(seq 1 200); do
        o=$(owner_of "$1")
        if [[ -n $o && $o != "${2:-}" ]]; then
            echo "$o"
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# Milliseconds from now (the machine's clock, as PostgreSQL's on it) to the
# next takeover of partition P after token T.
takeover_ms() {
    pg_scalar "SELECT COALESCE(round(extract(epoch FROM min(at)) * 1000)::bigint
               - $2, -1) FROM ha_lease_log WHERE partition = '$1' AND token > $3"
}
now_ms() { date +%s%3N; }
token_of() { pg_scalar "SELECT token FROM ha_leases WHERE partition = '$1'"; }

feeds=()
start_feed() { # NAME CASES RATE
    setsid "$TL_CLI" feed --cases "$2" --rate "$3" --wait --timeout-s 120 \
        --id-prefix "$1" >"$run_dir/feed-$1.log" 2>&1 &
    feeds+=("$1:$!")
}

wait_feeds() {
    local f rc
    for f in "${feeds[@]}"; do
        rc=0
        wait "${f#*:}" || rc=$?
        say "feed ${f%%:*}: $(tail -1 "$run_dir/feed-${f%%:*}.log")"
        # A case refused during an outage is the bank's to retry.
        : "$rc"
    done
    # Billing and the outbox catch up after the last case closed.
    for _ in $(seq 1 200); do
        left=$(pg_scalar "SELECT (SELECT count(*) FROM outcomes o WHERE o.billable
            AND o.review IS DISTINCT FROM 'pending'
            AND NOT EXISTS (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id))
            + (SELECT count(*) FROM outbox WHERE published_at IS NULL)
            + (SELECT count(*) FROM cases WHERE state = 'open')")
        [[ $left -eq 0 ]] && break
        sleep 0.2
    done
}

failed=0
passed=0
check() {
    local what=$1 sql=$2 got
    got=$(pg_scalar "$sql")
    if [[ $got == 0 ]]; then
        printf 'faults: ok   %s\n' "$what"
        passed=$((passed + 1))
    else
        printf 'faults: FAIL %s (%s)\n' "$what" "$got"
        failed=$((failed + 1))
    fi
}

# The invariants, over everything so far.
checks() {
    local f accepted=0 n stored
    for f in "${feeds[@]}"; do
        n=$(grep -o 'accepted ([0-9]* new)' "$run_dir/feed-${f%%:*}.log" | tail -1 | tr -dc 0-9 || true)
        stored=$(pg_scalar "SELECT count(*) FROM cases WHERE external_id LIKE '${f%%:*}-%'")
        accepted=$((accepted + ${n:-0}))
        check "feed ${f%%:*}: the bank was told ok for cases at all" \
            "SELECT CASE WHEN ${n:-0} > 0 THEN 0 ELSE 1 END"
        check "feed ${f%%:*}: every case acknowledged is stored (${n:-0} ok, $stored stored)" \
            "SELECT GREATEST(${n:-0} - $stored, 0)"
    done
    feeds=()
    check "every case is closed" "SELECT count(*) FROM cases WHERE state = 'open'"
    check "no task held by two workers" "SELECT count(*) FROM (SELECT task_id
        FROM reservations WHERE state IN ('accepted', 'wrapping', 'completed')
        GROUP BY task_id HAVING count(*) > 1) x"
    check "no worker over its slots on any channel at any moment" "
        WITH iv AS (
          SELECT r.worker_id, s.channel, r.created_at AS t0, r.released_at AS t1
          FROM reservations r
          JOIN tasks t ON t.id = r.task_id
          JOIN cases c ON c.id = t.case_id
          JOIN playbook_steps s ON s.tenant_id = c.tenant_id
           AND s.case_type = c.case_type AND s.version = c.playbook_version
           AND s.step = t.step),
        ev AS (
          SELECT worker_id, channel, t0 AS at, 1 AS d FROM iv
          UNION ALL
          SELECT worker_id, channel, t1, -1 FROM iv WHERE t1 IS NOT NULL),
        run AS (
          SELECT worker_id, channel,
                 sum(d) OVER (PARTITION BY worker_id, channel
                              ORDER BY at, d ROWS UNBOUNDED PRECEDING) AS n
          FROM ev)
        SELECT count(*) FROM (
          SELECT worker_id, channel, max(n) AS peak FROM run GROUP BY 1, 2) x
        JOIN worker_capacity k USING (worker_id, channel)
        WHERE x.peak > k.slots"
    check "lease tokens only increase" "SELECT count(*) FROM (
        SELECT token <= lag(token) OVER (PARTITION BY partition ORDER BY id) AS bad
        FROM ha_lease_log) x WHERE bad"
    check "task epochs only increase" "SELECT count(*) FROM (
        SELECT epoch < lag(epoch) OVER (PARTITION BY task_id ORDER BY id) AS bad
        FROM reservations) x WHERE bad"
    check "one outcome per completed task" "SELECT count(*) FROM tasks t
        WHERE t.state = 'completed' AND NOT EXISTS
        (SELECT 1 FROM outcomes o WHERE o.task_id = t.id)"
    check "every billable outcome billed" "SELECT count(*) FROM outcomes o
        WHERE o.billable AND o.review IS DISTINCT FROM 'pending' AND NOT EXISTS
        (SELECT 1 FROM billable_lines l WHERE l.outcome_id = o.id)"
    check "nothing billed twice" "SELECT count(*) - count(DISTINCT outcome_id)
        FROM billable_lines"
    check "every event published" "SELECT count(*) FROM outbox WHERE published_at IS NULL"
    check "backlog drained (no task waiting for a worker)" "SELECT count(*) FROM tasks
        WHERE state IN ('pending', 'reserved', 'assigned')"
    local twice
    # Every identity's own inbox prefix (_INBOX_<identity>.) and cnats's
    # default one.
    grep -E '^_INBOX(_[^.]+)?\.' "$replies" | cut -f1,3 | sort -u | cut -f1 | uniq -d \
        >"$replies.twice"
    twice=$(wc -l <"$replies.twice")
    if [[ $twice -gt 0 ]]; then
        say "answered twice differently (all in $replies.twice):"
        head -3 "$replies.twice" | while read -r subj; do
            grep -F "$subj$(printf '\t')" "$replies" | sed 's/^/    /' >&2
        done
    fi
    check "no request answered twice with different answers ($(wc -l <"$replies") replies)" \
        "SELECT $twice"
}

# The reply watcher's identity (tests/tools/reply_watch.c): a user of this
# drill's servers only, allowed to subscribe to everything and to publish
# nothing. It is no Twinline identity (no role may read other parties'
# replies), so it comes into the generated authorization through
# TL_NATS_AUTH_EXTRA, which every twinline nats-auth of the drill reads
# (docs/ha.md, "The fault drill").
watcher_identity() {
    rm -f "$run_dir/watch.creds"
    "$TL_WATCH" --make-creds "$run_dir/watch.creds" >"$run_dir/auth-extra.conf"
    chmod 600 "$run_dir/auth-extra.conf"
    export TL_NATS_AUTH_EXTRA=$run_dir/auth-extra.conf
}

nservices=0
start_services() { # [NATS cluster size]; TL_PG_REPLICA=1 adds a replica
    nservices=$((nservices + 1))
    unset TL_STREAM_REPLICAS
    TL_NATS_CLUSTER=${1:-} scripts/services.sh start "$run_dir" >/dev/null
    # shellcheck source=/dev/null
    . "$run_dir/env"
    export TL_PREFIX=faults
    # As the README sets things up: customer data sealed under a master
    # key, every party its own identity (scripts/lib.sh).
    master_key "$run_dir"
    "$TL_CLI" migrate >/dev/null
    watcher_identity
    load_and_admit "$run_dir" examples/operator.json examples/bank.json \
        examples/insurer.json >/dev/null
    replies=$run_dir/replies.$nservices.log
    bg_start watch "$replies" "$TL_WATCH" --creds "$run_dir/watch.creds"
    bg_start billing "$run_dir/billing.$nservices.log" "$TL_BILLING"
}

start_agents() { # SUFFIX: two agents for the workers of a world
    local w first rest
    w=$(workers_of "$1")
    first=$(tr ',' '\n' <<<"$w" | head -25 | paste -sd,)
    rest=$(tr ',' '\n' <<<"$w" | tail -n +26 | paste -sd,)
    bg_start "agent1$1" "$run_dir/agent1$1.log" "$TL_AGENT" --workers "$first" --handle-ms 150
    bg_start "agent2$1" "$run_dir/agent2$1.log" "$TL_AGENT" --workers "$rest" --handle-ms 150
}

dispatcher_args=(--lease-ms 2000 --offer-timeout-ms 3000 --stream-mb 64
    --ha-lease-ms 3000)
mkdir -p "$run_dir"
rm -rf "${run_dir:?}"/*
failover=()

# --- 1. an active dispatcher and a standby ---------------------------------
say "1. one partition, an active dispatcher and a standby"
start_services
start_dispatcher
wait_owner frontline >/dev/null || die "no dispatcher took partition frontline; see $run_dir/d1.log"
start_dispatcher
start_agents ""
sleep 1
start_feed A 1500 60
sleep 3

for round in 1 2; do
    active=$(owner_of frontline)
    tok=$(token_of frontline)
    t0=$(now_ms)
    say "kill -9 the active dispatcher ($active)"
    bg_kill_named "$active"
    new=$(wait_owner frontline "$active") || die "no dispatcher took over from $active"
    failover+=("$(takeover_ms frontline "$t0" "$tok")")
    say "  $new took over in ${failover[-1]} ms; $active comes back as a standby"
    start_dispatcher
    sleep 2
done

active=$(owner_of frontline)
tok=$(token_of frontline)
t0=$(now_ms)
say "freeze the active dispatcher ($active) past its lease (SIGSTOP for 6 s)"
pid=$(bg_pid_named "$active")
frozen_pids="$pid"
kill -STOP -- "-$pid"
new=$(wait_owner frontline "$active") || die "no dispatcher took over from the frozen $active"
say "  $new took over in $(takeover_ms frontline "$t0" "$tok") ms"
sleep 3
kill -CONT -- "-$pid"
frozen_pids=
sleep 2

say "restart PostgreSQL"
pg_home=$(dirname "$(readlink -f "$run_dir/postgres.log")")
as_pg "$pg_bin/pg_ctl" -D "$pg_home/data" -m fast -w restart -l "$pg_home/postgres.log" >/dev/null

sleep 3
say "restart nats-server"
kill "$(cat "$run_dir/nats.pid")"
sleep 1
nats-server -c "$run_dir/nats.conf" >>"$run_dir/nats.log" 2>&1 &
echo $! >"$run_dir/nats.pid"

sleep 3
say "kill -9 billing"
bg_kill_named billing
bg_start billing "$run_dir/billing.1b.log" "$TL_BILLING"

sleep 2
say "freeze half of the workers past their lease (SIGSTOP for 4 s)"
pid=$(bg_pid_named agent2)
frozen_pids="$pid"
kill -STOP -- "-$pid"
sleep 4
kill -CONT -- "-$pid"
frozen_pids=

sleep 2
say "kill -9 an agent and start it again at once (within its workers' lease)"
bg_kill_named agent1
w=$(workers_of "")
bg_start agent1 "$run_dir/agent1.2.log" "$TL_AGENT" \
    --workers "$(tr ',' '\n' <<<"$w" | head -25 | paste -sd,)" --handle-ms 150
wait_feeds
checks

# --- 2. two dispatchers started at once ------------------------------------
say "2. every dispatcher killed; two started at the same moment"
for d in $(seq 1 "$ndisp"); do bg_kill_named "d$d"; done
start_dispatcher
first=$last_dispatcher
start_dispatcher
wait_owned_by frontline "$first" "$last_dispatcher"
start_feed B 600 60
sleep 1
owners=$(pg_scalar "SELECT count(DISTINCT owner) FROM ha_leases WHERE expires_at > clock_timestamp()")
say "  partitions owned by $owners dispatcher(s)"
wait_feeds
checks

# --- 3. rebalance under load -----------------------------------------------
say "3. two more partitions under load; a dispatcher joins, one leaves"
# Their workers, banks and operator get identities of their own too.
# shellcheck disable=SC2046
admit_more "$run_dir" $(make_world _b) $(make_world _c) >/dev/null
start_agents _b
start_agents _c
start_feed C 1800 90
sleep 4
say "  $(pg_scalar "SELECT string_agg(partition || '=' || owner, ' ' ORDER BY partition) FROM ha_leases")"
start_dispatcher
joined=$last_dispatcher
sleep 4
say "  $joined joined: $(pg_scalar "SELECT string_agg(partition || '=' || owner, ' ' ORDER BY partition) FROM ha_leases")"
leaving=$(pg_scalar "SELECT owner FROM ha_leases WHERE owner <> '$joined' LIMIT 1")
bg_stop_named "$leaving"
sleep 3
say "  $leaving left: $(pg_scalar "SELECT string_agg(partition || '=' || COALESCE(owner, '-'), ' ' ORDER BY partition) FROM ha_leases")"
wait_feeds
checks

if [[ $full -eq 1 ]]; then
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true

    # --- 4. a NATS cluster loses a node ------------------------------------
    say "4. a 3-node NATS cluster; kill -9 a node and restart it, twice"
    start_services 3
    start_dispatcher
    first=$last_dispatcher
    start_dispatcher
    wait_owned_by frontline "$first" "$last_dispatcher"
    start_agents ""
    sleep 1
    start_feed D 1200 60
    for node in 1 2; do
        sleep 4
        say "  kill -9 nats node $node"
        scripts/nats_cluster.sh kill "$run_dir" "$node"
        sleep 3
        scripts/nats_cluster.sh restart "$run_dir" "$node"
    done
    wait_feeds
    checks
    bg_stop_all
    scripts/services.sh stop "$run_dir" >/dev/null 2>&1 || true

    # --- 5. the PostgreSQL primary dies; its replica is promoted ------------
    say "5. PostgreSQL primary with a synchronous replica; kill -9 the primary, promote the replica"
    TL_PG_REPLICA=1 start_services
    replica_dir=$TL_PG_REPLICA_DATA
    say "  TL_DB=$TL_DB"
    start_dispatcher
    first=$last_dispatcher
    start_dispatcher
    wait_owned_by frontline "$first" "$last_dispatcher"
    start_agents ""
    sleep 1
    start_feed E 1200 60
    sleep 6
    say "  kill -9 the primary; pg_ctl promote the replica"
    # The postmaster and every backend of it at once, as a machine that
    # dies takes them.
    pm=$(as_pg head -1 "$TL_PG_PRIMARY_DATA/postmaster.pid")
    kids=$(pgrep -P "$pm" || true)
    # shellcheck disable=SC2086
    kill -KILL "$pm" $kids 2>/dev/null || true
    as_pg "$pg_bin/pg_ctl" -D "$replica_dir" -w promote >/dev/null
    wait_feeds
    checks
fi

n=${#failover[@]}
if [[ $n -gt 0 ]]; then
    say "takeover after kill -9: ${failover[*]} ms"
fi
printf 'faults: %s passed, %s failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
