#!/usr/bin/env bash
# Format every C source and header with the repository's .clang-format.
set -euo pipefail
export TL_SCRIPT=format
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

command -v clang-format >/dev/null \
    || die "clang-format is not installed; run: apt-get install -y clang-format"
cd "$TL_ROOT"
git ls-files -co --exclude-standard -- '*.c' '*.h' | xargs -r clang-format -i
