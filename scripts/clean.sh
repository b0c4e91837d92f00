#!/usr/bin/env bash
# Stop services left by an interrupted run and remove build/ and run/.
set -euo pipefail
export TL_SCRIPT=clean
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

cd "$TL_ROOT"
if [[ -d run ]]; then
    for d in run/*/; do
        [[ -f $d/env || -f $d/nats.pid ]] || continue
        scripts/services.sh stop "$d" || true
    done
fi
rm -rf build run
