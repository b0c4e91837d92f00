# Shared helpers for the scripts in this directory; source it, don't run it.
# shellcheck shell=bash

TL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TL_ROOT

# Debian installs nats-server in /usr/sbin, which is not on a normal
# user's PATH; the scripts that restart it need it there.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) export PATH=$PATH:/usr/sbin ;;
esac

say() {
    printf '%s: %s\n' "${TL_SCRIPT:-twinline}" "$*" >&2
}

die() {
    say "$*"
    exit 1
}

# Background jobs started with bg_start, in start order.
TL_BG_PIDS=()
TL_BG_NAMES=()

# bg_start NAME LOGFILE CMD...: run CMD in the background in its own process
# group (so stopping it also stops anything it forks), output to LOGFILE.
bg_start() {
    local name=$1 logfile=$2
    shift 2
    setsid "$@" >"$logfile" 2>&1 </dev/null &
    TL_BG_PIDS+=("$!")
    TL_BG_NAMES+=("$name")
}

# exit_text STATUS: how a process ended, for people.
exit_text() {
    if [[ $1 -gt 128 ]]; then
        echo "was killed by signal $(($1 - 128)) ($(kill -l "$(($1 - 128))" 2>/dev/null || echo '?'))"
    else
        echo "exited with status $1"
    fi
}

# Fail if a background job already died (a bad flag, a crash), saying how.
bg_check() {
    local i rc
    for i in "${!TL_BG_PIDS[@]}"; do
        if ! kill -0 "${TL_BG_PIDS[$i]}" 2>/dev/null; then
            rc=0
            wait "${TL_BG_PIDS[$i]}" 2>/dev/null || rc=$?
            say "${TL_BG_NAMES[$i]} $(exit_text "$rc") (see its log)"
            return 1
        fi
    done
    return 0
}

# bg_stop_one PID [NAME]: TERM the job's process group, wait up to 5 s, then
# KILL. A job that had already died on its own is reported with NAME.
bg_stop_one() {
    local pid=$1 name=${2:-} rc=0
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || rc=$?
        # 127: already reaped by an earlier wait (bg_check reported it).
        if [[ -n $name && $rc -ne 0 && $rc -ne 127 ]]; then
            say "$name had $(exit_text "$rc")"
        fi
        return 0
    fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# fg_run CMD...: run CMD to completion, but so that a signal to this script
# runs its trap at once (bash defers traps while a foreground command runs)
# and the trap's bg_stop_all also stops CMD and everything it started (its
# own process group). While it runs, a background job that dies stops it:
# there is no point feeding cases to a dispatcher that crashed. Returns
# CMD's status (1 when it was stopped that way).
TL_FG_PID=
fg_run() {
    local rc=0
    setsid "$@" &
    TL_FG_PID=$!
    while kill -0 "$TL_FG_PID" 2>/dev/null; do
        if ! bg_check; then
            bg_stop_one "$TL_FG_PID"
            TL_FG_PID=
            say "stopped $1 because a service died"
            return 1
        fi
        sleep 0.25
    done
    wait "$TL_FG_PID" || rc=$?
    TL_FG_PID=
    return "$rc"
}

# Stop every background job, newest first (agents before the dispatcher),
# and a command fg_run is waiting for.
bg_stop_all() {
    local i
    if [[ -n $TL_FG_PID ]]; then
        bg_stop_one "$TL_FG_PID"
        TL_FG_PID=
    fi
    for ((i = ${#TL_BG_PIDS[@]} - 1; i >= 0; i--)); do
        bg_stop_one "${TL_BG_PIDS[$i]}" "${TL_BG_NAMES[$i]}"
    done
    TL_BG_PIDS=()
    TL_BG_NAMES=()
}

# Stop a job by name (the most recently started one with that name).
bg_stop_named() {
    local name=$1 i
    for ((i = ${#TL_BG_PIDS[@]} - 1; i >= 0; i--)); do
        if [[ ${TL_BG_NAMES[$i]} == "$name" ]]; then
            bg_stop_one "${TL_BG_PIDS[$i]}" "$name"
            unset 'TL_BG_PIDS[i]' 'TL_BG_NAMES[i]'
            TL_BG_PIDS=("${TL_BG_PIDS[@]}")
            TL_BG_NAMES=("${TL_BG_NAMES[@]}")
            return 0
        fi
    done
}

# Kill a job by name (the most recently started one with that name) with
# SIGKILL, without warning, as a crash would; by its process group, so only
# this script's job dies and not a program of the same name run elsewhere.
bg_kill_named() {
    local name=$1 i pid
    for ((i = ${#TL_BG_PIDS[@]} - 1; i >= 0; i--)); do
        if [[ ${TL_BG_NAMES[$i]} == "$name" ]]; then
            pid=${TL_BG_PIDS[$i]}
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            unset 'TL_BG_PIDS[i]' 'TL_BG_NAMES[i]'
            TL_BG_PIDS=("${TL_BG_PIDS[@]}")
            TL_BG_NAMES=("${TL_BG_NAMES[@]}")
            return 0
        fi
    done
}

# build_preset PRESET [TARGET...]: build it (only TARGETs when given),
# unless TL_BUILD_DIR names an existing build to use instead (for trying
# the scripts on a build of one's own).
build_preset() {
    if [[ -n ${TL_BUILD_DIR:-} ]]; then
        say "using the existing build in $TL_BUILD_DIR"
        return 0
    fi
    # Build chatter goes to stderr: stdout is for results (bench figures).
    "$TL_ROOT/scripts/build.sh" "$@" >&2
}

# The binaries of a preset (or of TL_BUILD_DIR).
bin_paths() {
    local b=${TL_BUILD_DIR:-$TL_ROOT/build/$1}
    TL_CLI=$b/cli/twinline
    TL_DISPATCHER=$b/dispatcher/twinline-dispatcher
    TL_BILLING=$b/billing/twinline-billing
    TL_AGENT=$b/worker/twinline-agent
    export TL_CLI TL_DISPATCHER TL_BILLING TL_AGENT
}

# master_key RUN_DIR: the master key that seals customer data at rest
# (docs/security.md): RUN_DIR/master.key, made with `twinline keys init`
# (mode 0600) unless it is there, exported as TL_MASTER_KEY_FILE for every
# program the script starts. Needs TL_CLI (bin_paths).
master_key() {
    local f=$1/master.key
    if [[ ! -f $f ]]; then
        "$TL_CLI" keys init "$f" >/dev/null || die "could not make the master key $f"
    fi
    export TL_MASTER_KEY_FILE=$f
}

need_bins() {
    local f
    for f in "$@"; do
        [[ -x $f ]] || die "$f was not built; the build did not produce it (see the output of scripts/build.sh)"
    done
}

# load_and_admit RUN_DIR FILE...: load the configuration files, making an
# identity for every worker in them (person or AI), then the identities of
# the services (dispatcher, billing, console), of the admin command line,
# of every tenant's integration client and of every operator's tools, with
# their credentials files (mode 0600) in RUN_DIR/creds, and let them into
# nats-server: twinline nats-auth regenerates its authorization from the
# database and reloads it (TL_NATS_AUTH and TL_NATS_PIDFILE come from the
# run's env, scripts/services.sh). Exports TL_CREDS_DIR and TL_CREDS (the
# directory): every program finds its own identity there (the twinline
# commands the admin's, the dispatcher the dispatcher's, ...; the agent
# and the feed those of their workers and tenants). A fresh database each
# time: the directory starts empty.
load_and_admit() {
    local dir=$1/creds id
    shift
    rm -rf "$dir"
    mkdir -m 700 "$dir"
    "$TL_CLI" load --identities "$dir" "$@"
    for id in dispatcher billing console admin; do
        "$TL_CLI" identity create "$id" --out "$dir/$id.creds" >/dev/null
    done
    admit_parties "$dir"
    "$TL_CLI" nats-auth
    TL_CREDS=$dir
    TL_CREDS_DIR=$dir
    export TL_CREDS TL_CREDS_DIR
}

# admit_parties DIR: an identity for every tenant's integration client and
# every operator's tools that has none yet, credentials in DIR.
admit_parties() {
    local dir=$1 role id
    for role in tenant operator; do
        for id in $(pg_scalar "SELECT string_agg(p.id, ' ' ORDER BY p.id) FROM ${role}s p
                WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.role = '$role'
                AND i.party = p.id AND i.status = 'active')"); do
            "$TL_CLI" identity create "$role" "$id" --out "$dir/$role-$id.creds" >/dev/null
        done
    done
}

# admit_more RUN_DIR FILE...: after load_and_admit, load more configuration
# files the same way: identities for their new workers, tenants and
# operators in RUN_DIR/creds, and nats-server's authorization regenerated.
admit_more() {
    local dir=$1/creds
    shift
    "$TL_CLI" load --identities "$dir" "$@"
    admit_parties "$dir"
    "$TL_CLI" nats-auth
}

# Wait until SQL (a scalar) returns a value other than 0/empty, or give up.
# Uses the private cluster from the run's env.
pg_scalar() {
    psql -X -q -t -A -v ON_ERROR_STOP=1 "$TL_DB" -c "$1"
}
