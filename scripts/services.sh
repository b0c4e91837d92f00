#!/usr/bin/env bash
# Start or stop a private PostgreSQL cluster and nats-server for Twinline,
# and the programs run against them.
#
#   scripts/services.sh start RUN_DIR           # fresh cluster + server, writes RUN_DIR/env
#   scripts/services.sh run RUN_DIR NAME CMD... # CMD in the background, log RUN_DIR/NAME.log
#   scripts/services.sh status RUN_DIR          # what runs
#   scripts/services.sh stop RUN_DIR            # stops what run and start started
#
# With TL_NATS_CLUSTER=3, a 3-node NATS cluster (scripts/nats_cluster.sh)
# instead of the single nats-server; with TL_PG_REPLICA=1, PostgreSQL also
# gets a synchronous streaming replica (scripts/pg_replica.sh) and TL_DB
# names both (docs/ha.md). TL_PG_EXTRA_OPTS adds server options (`-c
# name=value ...`; scripts/bench_profile.sh loads pg_stat_statements).
#
# Both listen on 127.0.0.1 only, on free ports. PostgreSQL refuses to run as
# root, so as root it runs as the `postgres` user. fsync stays on (durability
# is the point). JetStream has explicit storage limits; without them
# nats-server claims 75% of RAM. A second start stops the first (and the
# programs run in it) and begins from empty data, so no manual cleaning is
# ever needed.
#
# `run` starts a program with RUN_DIR/env loaded (whatever the services
# need, such as their addresses and credentials, reaches it), in a session
# of its own, and records it in RUN_DIR/programs/; `stop` stops exactly
# those programs, newest first (agents before the dispatcher), each with
# SIGTERM and after 10 s SIGKILL, and then the services. A recorded program
# is recognised by its pid and start time, so a pid reused by something
# else is never signalled.
#
# nats-server always runs with authorization (docs/security.md): its
# configuration includes RUN_DIR/auth.conf, which starts as one user whose
# password nobody knows, so nobody gets in until `twinline nats-auth`
# writes the identities' authorization there and reloads the server
# (scripts/lib.sh: load_and_admit; the env file names the file, the pid
# file and the server's log, which the dispatcher follows for everyone's
# permission violations).
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|status RUN_DIR" >&2
    echo "       $0 run RUN_DIR NAME COMMAND [ARGS...]" >&2
    exit 2
}

cmd=${1:-}
run_dir=${2:-}
if [[ -z $cmd || -z $run_dir ]]; then
    usage
fi
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)

# Debian installs nats-server in /usr/sbin, which is not on a normal
# user's PATH.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin ;;
esac
if ! command -v nats-server >/dev/null; then
    echo "services: nats-server is not installed; run scripts/deps.sh" >&2
    exit 1
fi
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z $pg_bin ]]; then
    echo "services: PostgreSQL server binaries not found; run scripts/deps.sh" >&2
    exit 1
fi

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Where the cluster lives: under the run directory when the postgres user can
# reach it, otherwise in a private folder under /tmp named after it.
pg_home() {
    if [[ $(id -u) -ne 0 ]] || runuser -u postgres -- test -x "$run_dir"; then
        echo "$run_dir/pg"
    else
        echo "/tmp/twinline-pg-$(echo "$run_dir" | md5sum | cut -c1-12)"
    fi
}

port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 30000))
        if ! port_busy "$p" && [[ $p != "${1:-0}" ]]; then
            echo "$p"
            return 0
        fi
    done
    echo "services: no free port found" >&2
    return 1
}

wait_port() {
    for _ in $(seq 1 200); do
        port_busy "$1" && return 0
        sleep 0.05
    done
    return 1
}

# The start time of pid (clock ticks after boot, /proc/PID/stat field
# 22), or nothing when no such process runs. The fields are counted after
# the command name, which may itself hold spaces and parentheses.
proc_start() {
    local stat rest
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo "${20}"
}

programs_dir() {
    echo "$run_dir/programs"
}

# run NAME CMD...: start CMD in the background as described above.
run_program() {
    local name=$1 dir pid start seq rc
    shift
    [[ $name =~ ^[A-Za-z0-9_-]+$ ]] ||
        { echo "services: NAME must be letters, digits, '_' or '-' (got \"$name\")" >&2; exit 2; }
    [[ $# -gt 0 ]] || usage
    if [[ ! -f $run_dir/env ]]; then
        echo "services: $run_dir has no services; start them first: $0 start $run_dir" >&2
        exit 1
    fi
    dir=$(programs_dir)
    mkdir -p "$dir"
    for f in "$dir"/*-"$name"; do
        [[ -f $f ]] || continue
        read -r pid start <"$f" || true
        if [[ -n $pid && $(proc_start "$pid") == "$start" ]]; then
            echo "services: $name is already running (pid $pid); stop everything with: $0 stop $run_dir" >&2
            exit 1
        fi
        rm -f "$f"
    done
    # shellcheck source=/dev/null
    (. "$run_dir/env" && exec setsid "$@" >"$run_dir/$name.log" 2>&1 </dev/null) &
    pid=$!
    start=$(proc_start "$pid")
    # Numbered after the newest record, so that stop goes newest first.
    seq=$(find "$dir" -maxdepth 1 -type f -name '[0-9][0-9][0-9]-*' -printf '%f\n' |
        sort | tail -n 1 | cut -c1-3)
    seq=$((10#${seq:-0} + 1))
    printf '%s %s\n' "$pid" "$start" >"$dir/$(printf '%03d' "$seq")-$name"
    # A bad flag or an unknown worker ends a program within a moment; say
    # so here rather than leave it to the log.
    for _ in $(seq 1 10); do
        if [[ $(proc_start "$pid") != "$start" ]]; then
            rc=0
            wait "$pid" 2>/dev/null || rc=$?
            echo "services: $name stopped at once (status $rc); the end of $run_dir/$name.log:" >&2
            tail -n 5 "$run_dir/$name.log" | sed 's/^/  /' >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "services: $name runs (pid $pid), log $run_dir/$name.log"
}

# Stop the programs `run` started, newest first.
stop_programs() {
    local dir f pid start
    dir=$(programs_dir)
    [[ -d $dir ]] || return 0
    while IFS= read -r f; do
        read -r pid start <"$f" || true
        if [[ -n $pid && $(proc_start "$pid") == "$start" ]]; then
            # setsid made it a session and group leader: stop the group.
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do
                [[ $(proc_start "$pid") == "$start" ]] || break
                sleep 0.1
            done
            if [[ $(proc_start "$pid") == "$start" ]]; then
                kill -KILL -- "-$pid" 2>/dev/null || true
                echo "services: ${f##*/[0-9][0-9][0-9]-} did not stop in 10 s; killed it" >&2
            fi
        fi
        rm -f "$f"
    done < <(find "$dir" -maxdepth 1 -type f | sort -r)
}

status_all() {
    local dir f pid start name any=0
    dir=$(programs_dir)
    while IFS= read -r f; do
        read -r pid start <"$f" || true
        name=${f##*/[0-9][0-9][0-9]-}
        any=1
        if [[ -n $pid && $(proc_start "$pid") == "$start" ]]; then
            echo "$name: running (pid $pid), log $run_dir/$name.log"
        else
            echo "$name: stopped, log $run_dir/$name.log"
        fi
    done < <(find "$dir" -maxdepth 1 -type f 2>/dev/null | sort)
    [[ $any -eq 1 ]] || echo "no programs were started with: $0 run $run_dir NAME ..."
    if [[ -f $run_dir/nats.pid ]] && kill -0 "$(cat "$run_dir/nats.pid")" 2>/dev/null; then
        echo "services: running (env in $run_dir/env)"
    else
        echo "services: not running; start them with: $0 start $run_dir"
    fi
}

stop_all() {
    local home
    stop_programs
    home=$(pg_home)
    if [[ -f $home/data/postmaster.pid ]]; then
        as_pg "$pg_bin/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [[ -f $run_dir/nats.pid ]]; then
        local pid
        pid=$(cat "$run_dir/nats.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$run_dir/nats.pid"
    fi
    if [[ -f $run_dir/nats-cluster.env ]]; then
        "$(dirname "$0")/nats_cluster.sh" stop "$run_dir" || true
        rm -f "$run_dir/nats-cluster.env"
    fi
    if [[ -f $run_dir/pg-replica.env ]]; then
        "$(dirname "$0")/pg_replica.sh" stop "$run_dir" || true
        rm -f "$run_dir/pg-replica.env"
    fi
}

start_all() {
    local home pg_port nats_port
    stop_all
    home=$(pg_home)
    rm -rf "$home" "$run_dir/js"
    mkdir -p "$home/sock" "$run_dir/js"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres: "$home"
    fi

    as_pg "$pg_bin/initdb" -D "$home/data" -U postgres --auth=trust \
        -E UTF8 --locale=C.UTF-8 >"$run_dir/initdb.log" 2>&1 || {
        echo "services: initdb failed; see $run_dir/initdb.log" >&2
        exit 1
    }
    pg_port=$(free_port)
    as_pg "$pg_bin/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$home/sock -c max_connections=200 -c shared_buffers=256MB ${TL_PG_EXTRA_OPTS:-}" \
        start >/dev/null || {
        echo "services: PostgreSQL did not start; see $home/postgres.log" >&2
        exit 1
    }
    ln -sfn "$home/postgres.log" "$run_dir/postgres.log"

    nats_port=$(free_port "$pg_port")
    (
        umask 077
        cat >"$run_dir/auth.conf" <<CONF
# Nobody can connect until twinline nats-auth writes the identities here.
authorization { users = [ { user: "nobody", password: "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" } ] }
CONF
    )
    cat >"$run_dir/nats.conf" <<CONF
listen: 127.0.0.1:$nats_port
max_payload: 1MB
jetstream {
  store_dir: "$run_dir/js"
  max_memory_store: 256MB
  max_file_store: 4GB
}
include "auth.conf"
CONF
    nats-server -c "$run_dir/nats.conf" >"$run_dir/nats.log" 2>&1 &
    echo $! >"$run_dir/nats.pid"
    if ! wait_port "$nats_port"; then
        echo "services: nats-server did not start; see $run_dir/nats.log" >&2
        exit 1
    fi

    as_pg "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
        -c "CREATE DATABASE twinline" >/dev/null

    cat >"$run_dir/env" <<ENV
export TL_DB='host=127.0.0.1 port=$pg_port user=postgres dbname=twinline'
export TL_NATS='nats://127.0.0.1:$nats_port'
export TL_TEST_PG='host=127.0.0.1 port=$pg_port user=postgres'
export TL_TEST_NATS='nats://127.0.0.1:$nats_port'
export TL_PG_PORT=$pg_port
export TL_NATS_PORT=$nats_port
export TL_NATS_AUTH='$run_dir/auth.conf'
export TL_NATS_PIDFILE='$run_dir/nats.pid'
export TL_NATS_LOG='$run_dir/nats.log'
ENV
    if [[ -n ${TL_NATS_CLUSTER:-} ]]; then
        # The cluster replaces the single server (its env comes after).
        kill "$(cat "$run_dir/nats.pid")" 2>/dev/null || true
        rm -f "$run_dir/nats.pid"
        TL_NATS_CLUSTER_NODES=$TL_NATS_CLUSTER "$(dirname "$0")/nats_cluster.sh" start "$run_dir" >/dev/null
        cat "$run_dir/nats-cluster.env" >>"$run_dir/env"
    fi
    if [[ -n ${TL_PG_REPLICA:-} ]]; then
        "$(dirname "$0")/pg_replica.sh" start "$run_dir" "$home" "$pg_port" >/dev/null
        cat "$run_dir/pg-replica.env" >>"$run_dir/env"
    fi
    echo "services: PostgreSQL on 127.0.0.1:$pg_port, nats-server on 127.0.0.1:$nats_port (env in $run_dir/env)"
}

case $cmd in
start) start_all ;;
stop) stop_all ;;
status) status_all ;;
run)
    shift 2
    [[ $# -ge 2 ]] || usage
    run_program "$@"
    ;;
*) usage ;;
esac
