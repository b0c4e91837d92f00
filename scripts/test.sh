#!/usr/bin/env bash
# make test: install what is missing, build with ASan + UBSan (-Werror), start
# a private PostgreSQL and nats-server under run/test, run every ctest entry
# (labels unit and integration) against them, and stop the services again,
# also when a test fails or the run is interrupted. Exits with ctest's status.
#
#   scripts/test.sh [extra ctest arguments, e.g. -L unit or -R router]
set -euo pipefail
export TL_SCRIPT="test"
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

cd "$TL_ROOT"
run_dir=$TL_ROOT/run/test
preset=${TL_TEST_PRESET:-asan}

scripts/deps.sh
build_preset "$preset"
# -O2 finds warnings (-Werror) that the sanitizer build does not; the demo
# and the benchmark use this build, so it must compile too.
if [[ -z ${TL_BUILD_DIR:-} && $preset != release ]]; then
    build_preset release
fi

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bg_stop_all
    scripts/services.sh stop "$run_dir" || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin_paths "$preset"
scripts/services.sh start "$run_dir"
# shellcheck source=/dev/null
. "$run_dir/env"
test_dir=${TL_BUILD_DIR:-build/$preset}
# The suite's nats-server runs with authorization, as every Twinline
# server does: the ordinary tests connect as the suite's own identity
# (tests/suite_auth.c, tests/fixture.h); the tests of the permissions run
# servers of their own with the identities twinline generates.
TL_NATS_CREDS=$("$test_dir/tests/suite_auth" "$run_dir" "$TL_NATS") ||
    die "the suite's identity could not be set up on nats-server"
export TL_NATS_CREDS
# No test may rewrite the suite's authorization by accident (twinline
# nats-auth and --apply default to these).
unset TL_NATS_AUTH TL_NATS_PIDFILE
master_key "$run_dir"

# Leaks and undefined behaviour fail the test that caused them, with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:print_stacktrace=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Leaks inside third-party libraries (if any are found) go in tests/lsan.supp.
if [[ -f $TL_ROOT/tests/lsan.supp && -z ${LSAN_OPTIONS:-} ]]; then
    export LSAN_OPTIONS="suppressions=$TL_ROOT/tests/lsan.supp:print_suppressions=0"
fi
export TL_LOG=${TL_LOG:-warn}

ntests=$(ctest --test-dir "$test_dir" -N -LE bench 2>/dev/null | sed -n 's/^Total Tests: //p')
say "running ${ntests:-0} tests (preset $preset) against $TL_DB and $TL_NATS"
rc=0
# Benchmarks print figures and are run by make bench, not here.
fg_run ctest --test-dir "$test_dir" --output-on-failure \
    -j "${TL_JOBS:-2}" --timeout 300 -LE bench "$@" || rc=$?
if [[ ${ntests:-0} -eq 0 ]]; then
    say "no tests are defined yet"
fi
# The fault drill runs the real programs (this build) on services of its
# own: dispatchers with standbys killed and frozen, two started at once, a
# rebalance, PostgreSQL and NATS restarts, a frozen worker (make faults adds
# a NATS cluster and a PostgreSQL failover).
if [[ $# -eq 0 ]]; then
    export TL_BUILD_DIR=$test_dir
    fg_run scripts/faults.sh || rc=1
fi
exit "$rc"
