#!/usr/bin/env bash
# Install the Debian packages Twinline needs to build, test and run, but only
# when one is missing: a machine that has everything is not touched (no apt
# lock, no network). Works as root; otherwise uses sudo when it can.
set -euo pipefail
export TL_SCRIPT=deps
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

packages=(
    build-essential cmake pkg-config make
    libnats-dev nats-server
    libpq-dev postgresql postgresql-client
    libjansson-dev libsodium-dev libcmocka-dev
    libncurses-dev libcurl4-openssl-dev tmux libmicrohttpd-dev
    chromium chromium-driver
    fonts-wqy-microhei poppler-utils
    ca-certificates procps util-linux coreutils
)
# Chromium also prints the invoices as PDF (twinline invoice show --format
# pdf); the font covers the Chinese of the example parties' names, and
# poppler-utils (pdftotext, pdftoppm) lets the tests read the PDF back.
# The dashboard's browser test runs Node.js (playwright-core from npm).
# A machine that has node and npm already (from any source) keeps them;
# Debian's packages would conflict with another distribution's nodejs.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
fi
# Formatting is optional for building; install it only when asked. The
# browser test's npm modules are for the tests only (`make demo` skips
# them with --no-test-modules).
test_modules=1
for arg in "$@"; do
    case $arg in
    --dev) packages+=(clang-format shellcheck) ;;
    --no-test-modules) test_modules=0 ;;
    *) die "unknown option $arg; use --dev or --no-test-modules" ;;
    esac
done

# playwright-core for tests/browser, from the lock file; no install
# scripts (it downloads no browser: the test drives Debian's Chromium).
browser_modules() {
    local dir=$TL_ROOT/tests/browser
    [[ $test_modules -eq 1 ]] || return 0
    if [[ -f $dir/node_modules/playwright-core/package.json &&
        $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        return 0
    fi
    say "installing playwright-core for the browser test (npm ci)"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) \
        || die "npm ci in tests/browser failed; check that the npm registry is reachable"
}

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    browser_modules
    exit 0
fi

cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y
    --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo_cmd=(sudo -n)
    else
        say "missing packages: ${missing[*]}"
        say "run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
else
    sudo_cmd=()
fi

say "installing: ${missing[*]}"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed; check the network and /etc/apt/sources.list"
"${sudo_cmd[@]}" "${cmd[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
browser_modules
