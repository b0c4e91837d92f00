#!/usr/bin/env bash
# Load configuration files and let every party of them into nats-server,
# each with its own identity, for running the programs by hand
# (docs/operations.md, "Running by hand"):
#
#   scripts/services.sh start run/mine && . run/mine/env
#   twinline migrate
#   scripts/admit.sh run/mine examples/operator.json examples/bank.json ... && . run/mine/env
#
# makes an identity for every worker of the files, the services, the admin
# command line, every tenant and operator, writes their credentials files
# (mode 0600) to RUN_DIR/creds (emptied first: for a fresh database) and
# regenerates the server's authorization (twinline nats-auth, with the
# TL_NATS_AUTH and TL_NATS_PIDFILE of the run's env). It adds TL_CREDS_DIR
# to RUN_DIR/env: with it set (. RUN_DIR/env, or scripts/services.sh run),
# every program finds its own identity there.
#
# Uses TL_BUILD_DIR if set, else the release build.
set -euo pipefail
export TL_SCRIPT=admit
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

if [[ $# -lt 2 ]]; then
    echo "usage: $0 RUN_DIR FILE..." >&2
    exit 2
fi
[[ -n ${TL_NATS_AUTH:-} && -n ${TL_NATS_PIDFILE:-} ]] ||
    die "source the run's env first: . RUN_DIR/env (scripts/services.sh start RUN_DIR)"
run_dir=$(cd "$1" && pwd)
shift
bin_paths release
need_bins "$TL_CLI"
load_and_admit "$run_dir" "$@"
# The env file names the directory from now on (once, however often this
# runs).
grep -v '^export TL_CREDS_DIR=' "$run_dir/env" >"$run_dir/env.new" || true
echo "export TL_CREDS_DIR='$run_dir/creds'" >>"$run_dir/env.new"
mv "$run_dir/env.new" "$run_dir/env"
say "credentials in $run_dir/creds, named in $run_dir/env as TL_CREDS_DIR (. $run_dir/env)"
