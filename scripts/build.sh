#!/usr/bin/env bash
# Configure and build one CMake preset (debug, asan, release) into
# build/<preset>. Incremental: a second run rebuilds only what changed.
#
#   scripts/build.sh [PRESET] [TARGET...]   # TARGETs: only these (and what
#                                           # they need), e.g. twinline
set -euo pipefail
export TL_SCRIPT=build
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

preset=${1:-debug}
[[ $# -gt 0 ]] && shift
targets=()
for t in "$@"; do
    targets+=(--target "$t")
done
case $preset in
debug | asan | release) ;;
*) die "unknown preset \"$preset\"; use debug, asan or release" ;;
esac
jobs=${TL_JOBS:-2}

# Run from `make demo`, the top make's flags would make the build's own make
# print every directory it enters.
unset MAKEFLAGS MFLAGS MAKELEVEL

cd "$TL_ROOT"
if [[ ! -f build/$preset/CMakeCache.txt ]]; then
    cmake --preset "$preset" >/dev/null \
        || die "cmake --preset $preset failed (is every dependency installed? run scripts/deps.sh)"
fi
cmake --build "build/$preset" -j "$jobs" "${targets[@]}" \
    || die "build of preset $preset failed; the compiler output is above"
