#!/usr/bin/env bash
# One client and one pool of worker slots through one broker and through two,
# in one run: throughput, and each broker's CPU time per task it carried.
#
# Workload: `argon bench` (echo tasks, 64-byte payloads, window W) as one
# client, argon-broker --insecure at its default settings, on loopback.
#   1 broker    one argon-worker --capacity SLOTS
#   2 brokers   two brokers and one argon-worker --capacity SLOTS serving both
#               (--broker A --broker B: SLOTS tasks at once in all); the
#               client is given both too, and spreads its tasks over them
#               (docs/operations.md, "Several brokers")
# Each broker's CPU time (utime + stime of all its threads, /proc/PID/stat) is
# read before the client starts and after it ends, and divided by the tasks
# it carried (its STATUS `completed`). Setups are interleaved round by round;
# each figure is the median of ROUNDS rounds. Prints a markdown table, then
# what the broker's CPU per task implies for more cores: a broker is one
# process, about one core of dispatch, so k brokers on k free cores carry at
# most about k x 1e6 / (CPU µs per task) tasks/s, before the clients' and
# workers' own CPU (on this 2-core machine every process shares the same
# two cores, so the 2-broker throughput here cannot show that).
# Usage: bench/brokers.sh [TASKS=20000] [ROUNDS=3] [WINDOW=64] [SLOTS=8]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tasks=${1:-20000} rounds=${2:-3} window=${3:-64} slots=${4:-8}
build=${ARGON_BUILD:-$root/build}
out=$(mktemp -d)
pids=()
# Last started, first stopped: workers go before their brokers.
cleanup() { for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

[ -x "$build/tools/argon" ] || { "$root/scripts/deps" && meson setup "$build" "$root" >/dev/null && ninja -C "$build" >/dev/null; }
tick=$(getconf CLK_TCK)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
completed() { "$build/tools/argon" status --broker "$1" --insecure | awk -F'[:,]' '/"completed"/ { gsub(/ /, "", $2); print $2 }'; }
# wait_slots EP N: until the broker at EP has N slots
wait_slots() {
  for _ in $(seq 1 100); do
    "$build/tools/argon" status --broker "$1" --insecure 2>/dev/null | grep -q "\"slots\": $2," && return 0
    sleep 0.1
  done
  echo "brokers.sh: the broker at $1 never had $2 slots" >&2; exit 1
}

# measure BROKERS: prints "tasks_per_s us_per_task_broker1 [us_per_task_broker2]"
measure() {
  local n=$1 eps=() bpids=() i ep flags=()
  for ((i = 0; i < n; i++)); do
    ep="tcp://127.0.0.1:$(port)"
    "$build/broker/argon-broker" --bind "$ep" --insecure 2>/dev/null & bpids+=($!); pids+=($!)
    eps+=("$ep")
    flags+=(--broker "$ep")
  done
  "$build/worker/argon-worker" "${flags[@]}" --insecure --capacity "$slots" 2>/dev/null & pids+=($!)
  for ep in "${eps[@]}"; do wait_slots "$ep" $((slots / n)); done  # the permits go to the brokers in turn
  local before=() rate
  for i in "${!eps[@]}"; do before+=("$(cpu_ticks "${bpids[i]}")"); done
  rate=$("$build/tools/argon" bench "${flags[@]}" --insecure --tasks "$tasks" --window "$window" --payload 64 |
    sed -n 's/^tasks_per_s=\([0-9]*\).*/\1/p')
  local line="$rate"
  for i in "${!eps[@]}"; do
    local used=$(($(cpu_ticks "${bpids[i]}") - before[i])) carried
    carried=$(completed "${eps[i]}")
    line+=" $(awk -v u="$used" -v t="$tick" -v c="$carried" 'BEGIN { printf "%.1f/%d", c ? u / t * 1e6 / c : 0, c }')"
  done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null || true; done
  pids=()
  echo "$line"
}

for r in $(seq 1 "$rounds"); do
  for n in 1 2; do
    v=$(measure "$n")
    echo "$n $v" >> "$out/results"
    echo "round $r: $n broker(s): tasks/s, then each broker's CPU µs per task / tasks carried: $v" >&2
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { awk -v n="$1" -v f="$2" '$1 == n { split($f, p, "/"); print p[1] }' "$out/results" | median; }
carried() { awk -v n="$1" -v f="$2" '$1 == n { split($f, p, "/"); print p[2] }' "$out/results" | median; }
one_rate=$(field 1 2) two_rate=$(field 2 2)
one_cpu=$(field 1 3) two_a=$(field 2 3) two_b=$(field 2 4)
echo "| brokers | worker slots | tasks/s | broker CPU µs per task (tasks carried) |"
echo "|---|---|---|---|"
echo "| 1 | $slots | $one_rate | $one_cpu ($(carried 1 3)) |"
echo "| 2 | $slots, shared | $two_rate | $two_a ($(carried 2 3)), $two_b ($(carried 2 4)) |"
echo
awk -v c="$one_cpu" 'BEGIN { printf "scaling: one broker needs %.1f µs of CPU per task, so it carries at most about %d tasks/s on a core of its own; k brokers on k free cores, about k times that.\n", c, 1e6 / c }'
echo "$tasks tasks, window $window, median of $rounds rounds; all processes share this machine's $(nproc) cores"
