#!/usr/bin/env bash
# A 3-node nats-server cluster on loopback for Twinline (docs/ha.md):
# routes between the nodes, JetStream on each (with storage limits; the
# programs make their stream with TL_STREAM_REPLICAS=3 copies), the
# client URLs as one comma-separated list in TL_NATS.
#
#   scripts/nats_cluster.sh start RUN_DIR     # nodes n1..n3, env in RUN_DIR/nats-cluster.env
#   scripts/nats_cluster.sh stop RUN_DIR
#   scripts/nats_cluster.sh kill RUN_DIR I    # kill -9 node I (a crash)
#   scripts/nats_cluster.sh restart RUN_DIR I # start node I again
#
# scripts/services.sh calls it when TL_NATS_CLUSTER=3 is set. Every node
# runs with authorization (docs/security.md): its configuration includes
# RUN_DIR/auth.conf, the same file for all (one user nobody can pass if
# there is none yet), and the env names every node's pid file in
# TL_NATS_PIDFILE, so that `twinline nats-auth` reloads them all. The
# routes between the nodes have their own authorization: a user and a
# random password made at start, which only the nodes' configuration files
# (mode 0600) hold, so nothing else can connect as a server and bypass the
# clients' permissions.
set -euo pipefail

cmd=${1:-}
run_dir=${2:-}
nodes=${TL_NATS_CLUSTER_NODES:-3}
if [[ -z $cmd || -z $run_dir ]]; then
    echo "usage: $0 start|stop|kill|restart RUN_DIR [NODE]" >&2
    exit 2
fi
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 30000))
        if ! port_busy "$p" && ! grep -qw "$p" "$run_dir/nats-cluster.ports" 2>/dev/null; then
            echo "$p" >>"$run_dir/nats-cluster.ports"
            echo "$p"
            return 0
        fi
    done
    echo "nats_cluster: no free port found" >&2
    return 1
}

wait_port() {
    for _ in $(seq 1 200); do
        port_busy "$1" && return 0
        sleep 0.05
    done
    return 1
}

start_node() {
    local i=$1 port
    port=$(sed -n "s/^listen: 127.0.0.1://p" "$run_dir/nats-n$i.conf")
    nats-server -c "$run_dir/nats-n$i.conf" >>"$run_dir/nats-n$i.log" 2>&1 &
    echo $! >"$run_dir/nats-n$i.pid"
    if ! wait_port "$port"; then
        echo "nats_cluster: node n$i did not start; see $run_dir/nats-n$i.log" >&2
        exit 1
    fi
}

stop_node() {
    local i=$1 sig=${2:-TERM} pid
    [[ -f $run_dir/nats-n$i.pid ]] || return 0
    pid=$(cat "$run_dir/nats-n$i.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$run_dir/nats-n$i.pid"
}

start_all() {
    local i routes="" urls="" pids="" pw
    declare -a cport sport
    for i in $(seq 1 "$nodes"); do stop_node "$i"; done
    rm -f "$run_dir/nats-cluster.ports"
    umask 077
    if [[ ! -f $run_dir/auth.conf ]]; then
        cat >"$run_dir/auth.conf" <<CONF
# Nobody can connect until twinline nats-auth writes the identities here.
authorization { users = [ { user: "nobody", password: "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" } ] }
CONF
    fi
    pw=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    for i in $(seq 1 "$nodes"); do
        cport[i]=$(free_port)
        sport[i]=$(free_port)
        routes+="${routes:+, }nats-route://route:$pw@127.0.0.1:${sport[i]}"
        urls+="${urls:+,}nats://127.0.0.1:${cport[i]}"
        pids+="${pids:+,}$run_dir/nats-n$i.pid"
    done
    for i in $(seq 1 "$nodes"); do
        rm -rf "$run_dir/nats-n$i-js"
        mkdir -p "$run_dir/nats-n$i-js"
        {
            echo "server_name: n$i"
            echo "listen: 127.0.0.1:${cport[i]}"
            echo "max_payload: 1MB"
            echo "jetstream {"
            echo "  store_dir: \"$run_dir/nats-n$i-js\""
            echo "  max_memory_store: 128MB"
            echo "  max_file_store: 1GB"
            echo "}"
            echo "cluster {"
            echo "  name: twinline"
            echo "  listen: 127.0.0.1:${sport[i]}"
            echo "  authorization { user: route, password: \"$pw\", timeout: 2 }"
            echo "  routes: [$routes]"
            echo "}"
            echo "include \"auth.conf\""
        } >"$run_dir/nats-n$i.conf"
    done
    for i in $(seq 1 "$nodes"); do start_node "$i"; done
    # JetStream needs a meta leader before a stream can be made.
    for _ in $(seq 1 200); do
        grep -q "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" \
            "$run_dir"/nats-n*.log 2>/dev/null && break
        sleep 0.05
    done
    cat >"$run_dir/nats-cluster.env" <<ENV
export TL_NATS='$urls'
export TL_TEST_NATS='$urls'
export TL_NATS_PORT=${cport[1]}
export TL_STREAM_REPLICAS=$nodes
export TL_NATS_PIDFILE='$pids'
export TL_NATS_LOG='$run_dir/nats-n1.log'
ENV
    echo "nats_cluster: $nodes nodes on $urls"
}

case $cmd in
start) start_all ;;
stop) for i in $(seq 1 "$nodes"); do stop_node "$i"; done ;;
kill) stop_node "${3:?node}" KILL ;;
restart) start_node "${3:?node}" ;;
*)
    echo "usage: $0 start|stop|kill|restart RUN_DIR [NODE]" >&2
    exit 2
    ;;
esac
