#!/usr/bin/env bash
# Start or stop a private PostgreSQL cluster and nats-server for Twinline.
#
#   scripts/services.sh start RUN_DIR   # fresh cluster + server, writes RUN_DIR/env
#   scripts/services.sh stop RUN_DIR    # stops what start started
#
# With TL_NATS_CLUSTER=3, a 3-node NATS cluster (scripts/nats_cluster.sh)
# instead of the single nats-server; with TL_PG_REPLICA=1, PostgreSQL also
# gets a synchronous streaming replica (scripts/pg_replica.sh) and TL_DB
# names both (docs/ha.md).
#
# Both listen on 127.0.0.1 only, on free ports. PostgreSQL refuses to run as
# root, so as root it runs as the `postgres` user. fsync stays on (durability
# is the point). JetStream has explicit storage limits; without them
# nats-server claims 75% of RAM. A second start stops the first and begins
# from empty data, so no manual cleaning is ever needed.
set -euo pipefail

cmd=${1:-}
run_dir=${2:-}
if [[ -z $cmd || -z $run_dir ]]; then
    echo "usage: $0 start|stop RUN_DIR" >&2
    exit 2
fi
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)

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

stop_all() {
    local home
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
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$home/sock -c max_connections=200 -c shared_buffers=256MB" \
        start >/dev/null || {
        echo "services: PostgreSQL did not start; see $home/postgres.log" >&2
        exit 1
    }
    ln -sfn "$home/postgres.log" "$run_dir/postgres.log"

    nats_port=$(free_port "$pg_port")
    cat >"$run_dir/nats.conf" <<CONF
listen: 127.0.0.1:$nats_port
max_payload: 1MB
jetstream {
  store_dir: "$run_dir/js"
  max_memory_store: 256MB
  max_file_store: 4GB
}
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
*)
    echo "usage: $0 start|stop RUN_DIR" >&2
    exit 2
    ;;
esac
