#!/usr/bin/env bash
# Start or stop a private PostgreSQL cluster and nats-server for Twinline.
#
#   scripts/services.sh start RUN_DIR   # fresh cluster + server, writes RUN_DIR/env
#   scripts/services.sh stop RUN_DIR    # stops what start started
#
# Both listen on 127.0.0.1 only, on free ports. PostgreSQL refuses to run as
# root, so as root it runs as the `postgres` user. fsync stays on (durability
# is the point). JetStream has explicit storage limits; without them
# nats-server claims 75% of RAM. A second start stops the first and begins
# from empty data, so no manual cleaning is ever needed.
#
# nats-server always runs with authorization (docs/security.md): its
# configuration includes RUN_DIR/auth.conf, which starts as one user whose
# password nobody knows, so nobody gets in until `twinline nats-auth`
# writes the identities' authorization there and reloads the server
# (scripts/lib.sh: load_and_admit; the env file names the file, the pid
# file and the server's log, which the dispatcher follows for everyone's
# permission violations).
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
