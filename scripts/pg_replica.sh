#!/usr/bin/env bash
# A synchronous streaming replica of the private PostgreSQL cluster of a run
# directory (docs/ha.md): pg_basebackup of the primary, started as a hot
# standby on a free port, named in the primary's synchronous_standby_names
# so that a commit is acknowledged only once the replica has it. TL_DB then
# lists both servers with target_session_attrs=read-write: after the
# primary dies and the replica is promoted (pg_ctl promote), every program
# reconnects to it.
#
#   scripts/pg_replica.sh start RUN_DIR PRIMARY_HOME PRIMARY_PORT
#   scripts/pg_replica.sh stop RUN_DIR
#
# Called by scripts/services.sh when TL_PG_REPLICA=1. PostgreSQL refuses to
# run as root, so as root both run as the postgres user.
set -euo pipefail

cmd=${1:-}
run_dir=${2:-}
if [[ -z $cmd || -z $run_dir ]]; then
    echo "usage: $0 start RUN_DIR PRIMARY_HOME PRIMARY_PORT | stop RUN_DIR" >&2
    exit 2
fi
run_dir=$(cd "$run_dir" && pwd)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 30000))
        if ! port_busy "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

case $cmd in
start)
    home=${3:?primary home}
    pport=${4:?primary port}
    rdata=$home/replica
    as_pg rm -rf "$rdata"
    as_pg "$pg_bin/pg_basebackup" -D "$rdata" -R -X stream -c fast \
        -d "host=127.0.0.1 port=$pport user=postgres application_name=replica1" \
        >"$run_dir/pg-basebackup.log" 2>&1 || {
        echo "pg_replica: pg_basebackup failed; see $run_dir/pg-basebackup.log" >&2
        exit 1
    }
    rport=$(free_port)
    as_pg "$pg_bin/pg_ctl" -D "$rdata" -l "$home/replica.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $rport -c unix_socket_directories=$home/sock -c max_connections=200 -c shared_buffers=128MB -c hot_standby=on" \
        start >/dev/null || {
        echo "pg_replica: the replica did not start; see $home/replica.log" >&2
        exit 1
    }
    ln -sfn "$home/replica.log" "$run_dir/replica.log"
    # Only now (the base backup must not carry it, or the promoted replica
    # would wait for a standby of its own): commits wait for the replica.
    as_pg "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$pport" -U postgres -d postgres \
        -c "ALTER SYSTEM SET synchronous_standby_names = 'replica1'" \
        -c "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 1 200); do
        st=$(as_pg "$pg_bin/psql" -X -q -t -A -h 127.0.0.1 -p "$pport" -U postgres -d postgres \
            -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'replica1'")
        [[ $st == sync ]] && break
        sleep 0.05
    done
    [[ $st == sync ]] || {
        echo "pg_replica: the replica is not synchronous ($st)" >&2
        exit 1
    }
    cat >"$run_dir/pg-replica.env" <<ENV
export TL_DB='host=127.0.0.1,127.0.0.1 port=$pport,$rport user=postgres dbname=twinline target_session_attrs=read-write connect_timeout=2'
export TL_PG_PRIMARY_DATA='$home/data'
export TL_PG_REPLICA_DATA='$rdata'
export TL_PG_REPLICA_PORT=$rport
ENV
    echo "pg_replica: synchronous replica on 127.0.0.1:$rport"
    ;;
stop)
    if [[ -f $run_dir/pg-replica.env ]]; then
        # shellcheck source=/dev/null
        . "$run_dir/pg-replica.env"
        if [[ -f $TL_PG_REPLICA_DATA/postmaster.pid ]]; then
            as_pg "$pg_bin/pg_ctl" -D "$TL_PG_REPLICA_DATA" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    fi
    ;;
*)
    echo "usage: $0 start|stop ..." >&2
    exit 2
    ;;
esac
