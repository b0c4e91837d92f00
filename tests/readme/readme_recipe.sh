#!/usr/bin/env bash
# The README's "Work as an agent" section, run as it is written (ctest
# entry readme_recipe), so that its commands cannot drift from what works.
#
# Every ```sh block of the section is taken from README.md itself, its
# continuation lines joined, and each command run in order in this shell,
# as someone pasting them would. Two things differ, and only in text:
# run/mine becomes run/readme (a user's own run/mine is left alone) and
# the console listens on a free port (127.0.0.1:0) instead of 8080. The
# interactive agent runs in tmux: the test waits for its screen to show
# the worker available, then quits it with q and y. Before the section's
# last command (scripts/services.sh stop), it checks what the section
# promises: every program runs, billing is running and has billed a
# result of the simulated workers; after it, that everything the section
# started has stopped.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
run=run/readme
sock="tl-readme-$$"

say() { printf 'readme_recipe: %s\n' "$*" >&2; }
fail() {
    say "FAILED: $*"
    exit 1
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT
    tmux -L "$sock" kill-server 2>/dev/null || true
    if [[ $rc -ne 0 ]]; then
        for f in "$run"/*.log; do
            [[ -f $f ]] || continue
            say "--- end of $f"
            tail -n 5 "$f" >&2 || true
        done
        scripts/services.sh stop "$run" >/dev/null 2>&1 || true
    fi
    exit "$rc"
}
trap cleanup EXIT

command -v tmux >/dev/null || fail "tmux is not installed; run scripts/deps.sh"
command -v psql >/dev/null || fail "psql is not installed; run scripts/deps.sh"

# The section's code blocks, one command per line.
commands=()
while IFS= read -r line; do
    commands+=("$line")
done < <(awk '
    /^## Work as an agent/ { in_sec = 1; next }
    in_sec && /^## / { exit }
    in_sec && /^```sh$/ { in_code = 1; next }
    in_sec && in_code && /^```$/ { in_code = 0; next }
    in_sec && in_code {
        if (sub(/\\$/, "")) { pending = pending $0; next }
        print pending $0; pending = ""
    }' README.md | sed -e 's#run/mine#run/readme#g' -e 's#127\.0\.0\.1:8080#127.0.0.1:0#g')
[[ ${#commands[@]} -ge 8 ]] ||
    fail "found only ${#commands[@]} commands under \"## Work as an agent\" in README.md"

screen() { tmux -L "$sock" capture-pane -p -t agent 2>/dev/null || true; }

# wait_screen TEXT SECONDS: until the agent's screen shows TEXT.
wait_screen() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if screen | grep -qF -- "$1"; then
            return 0
        fi
        if screen | grep -q '^\[agent exited'; then
            screen >&2
            fail "the interactive agent ended before it showed \"$1\""
        fi
        sleep 0.1
    done
    screen >&2
    fail "the interactive agent's screen did not show \"$1\" within $2 s"
}

# The interactive step in a 120x40 terminal.
interactive() {
    local script=$run/interactive.sh
    {
        echo "cd '$root'"
        echo ". '$run/env'"
        echo "B='$B'"
        echo "$1"
        echo 'echo "[agent exited $?]"'
        echo 'sleep 60'
    } >"$script"
    tmux -L "$sock" -f /dev/null new-session -d -s agent -x 120 -y 40 \
        "bash $script"
    wait_screen "w001" 30
    wait_screen "available" 30
    say "the interactive agent shows w001 available; quitting it with q, y"
    tmux -L "$sock" send-keys -t agent q
    sleep 1
    tmux -L "$sock" send-keys -t agent y
    for _ in $(seq 1 100); do
        screen | grep -q '^\[agent exited' && break
        sleep 0.1
    done
    if screen | grep -q '^\[agent exited [1-9]'; then
        screen >&2
        fail "the interactive agent exited with an error"
    fi
    tmux -L "$sock" kill-server 2>/dev/null || true
}

# What the section promises, checked before it stops everything.
check_running() {
    local status kv n
    status=$(scripts/services.sh status "$run")
    printf '%s\n' "$status" >&2
    for p in dispatcher billing agent ai feed console; do
        grep -q "^$p: running" <<<"$status" || fail "$p is not running"
    done
    kv=$("$B/cli/twinline" bill report --format kv)
    grep -qx 'billreport.billing_running=1' <<<"$kv" ||
        fail "bill report does not see billing running: $kv"
    for _ in $(seq 1 180); do
        n=$(psql -X -q -t -A "$TL_DB" -c "SELECT count(*) FROM billable_lines")
        [[ $n -gt 0 ]] && break
        sleep 1
    done
    [[ $n -gt 0 ]] || fail "nothing was billed within 3 minutes"
    say "billing runs and has billed $n results"
}

# A person pasting the README has none of the suite's own credentials.
unset TL_NATS_CREDS TL_CREDS_DIR TL_CREDS
pids=()
for cmd in "${commands[@]}"; do
    [[ -n ${cmd// /} ]] || continue
    if [[ $cmd == *--interactive* ]]; then
        say "+ (in tmux) $cmd"
        interactive "$cmd"
        continue
    fi
    if [[ $cmd == "scripts/services.sh stop "* ]]; then
        check_running
        for f in "$run"/programs/*; do
            read -r pid _ <"$f"
            pids+=("$pid")
        done
        nats_pid=$(cat "$run/nats.pid")
    fi
    say "+ $cmd"
    if ! eval "$cmd"; then
        fail "README command failed: $cmd"
    fi
done

[[ ${#pids[@]} -ge 6 ]] || fail "the section never stopped its programs (no scripts/services.sh stop)"
for pid in "${pids[@]}" "$nats_pid"; do
    if kill -0 "$pid" 2>/dev/null; then
        fail "process $pid still runs after scripts/services.sh stop"
    fi
done
[[ -z $(find "$run/programs" -type f 2>/dev/null) ]] ||
    fail "scripts/services.sh stop left records in $run/programs"
say "every command of the section worked, and stop stopped all ${#pids[@]} programs and the services"
