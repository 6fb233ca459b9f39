#!/usr/bin/env bash
# Priorities and fairness: what a high-priority task waits beside a flood of
# low-priority ones, and how two equal clients share the slots.
#
# Workload: argon-broker --insecure at its default settings (queue limit 3 x
# SLOTS) and argon-workers on loopback, a new broker and new workers for each
# setup, loaded by build/bench/priority_load through the C++ client library.
# 1. High-priority latency under a low-priority flood. One client keeps
#    25 x SLOTS low `sleep 50` tasks in flight: the broker queues 3 x SLOTS,
#    the library holds the rest and sends one as each outcome arrives, so
#    every slot that takes low tasks stays busy and the queue full (less the
#    tasks that have just gone to freed slots, until the library's next ones
#    arrive). Once it is full, a second client submits 10 untimed then HIGH
#    high `echo` tasks (64 bytes), one every 20 ms on a fixed schedule, and
#    times each from submit to outcome. Setups:
#      no flood          one argon-worker --capacity SLOTS, no low tasks
#      flood             the same worker: every slot takes every lane
#      flood, reserved   argon-worker --capacity SLOTS-1 beside
#                        argon-worker --lanes high --capacity 1
#    The table gives the high tasks' p50, p99 and max in ms, the low tasks
#    done meanwhile and the fewest seen queued (the broker's status every
#    100 ms). The low tasks are all equal and start together, so their slots
#    free up together every 50 ms: under the flood a high task waits about
#    half a low task at the median and one at most.
# 2. Two equal clients under contention. Clients A and B each keep 64
#    `sleep 5` tasks of the normal lane in flight for SECONDS on one worker of
#    SLOTS slots, at the default queue limit (3 x SLOTS: the queue is contended
#    and fair admission decides who gets in) and with --queue-limit 100000
#    (every task is queued and the turns within the lane alone decide). The
#    table gives the tasks each got done in that time, smaller/larger, A/B,
#    tasks/s and the broker's BUSY replies.
# Prints a Markdown table per part, then the targets: beside the flood a high
# task waits at most about one low task (it waits for the next free slot, never
# behind the queued low tasks, which would take 3 x 50 ms more); with the
# reserved slot its p99 is within 5 ms of no flood; the two clients' ratio
# is 0.9-1.1 at both queue limits. Each setup's own output goes to stderr.
# Exits nonzero when any task failed, and then shows the end of that setup's
# broker's and workers' logs and whether each is still running. A run takes
# about 45 s.
# Usage: bench/priority.sh [HIGH=300] [SECONDS=10] [SLOTS=8]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
high=${1:-300} seconds=${2:-10} slots=${3:-8}
build=${ARGON_BUILD:-$root/build}
flood_ms=50 interval_ms=20 window=64 task_ms=5
out=$(mktemp -d)
pids=()
# Last started, first stopped: a worker whose broker has already gone waits for liveness x heartbeat before it exits.
# Then pids is emptied: a PID the system hands out again later must not be killed.
stop_all() { local i; for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null || true; done; pids=(); }
cleanup() { stop_all; rm -rf "$out"; }
trap cleanup EXIT

[ "$slots" -ge 2 ] || { echo "priority.sh: SLOTS must be at least 2 (one is reserved for the high lane)" >&2; exit 2; }
[ -x "$build/bench/priority_load" ] || { "$root/scripts/deps" && meson setup "$build" "$root" >/dev/null && ninja -C "$build" >/dev/null; }

# running PID: the process exists and has not exited (a zombie has)
running() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# measure SETUP "BROKER FLAGS" "WORKERS" LOAD-ARGS...: a broker and workers of its own (WORKERS: CAPACITY or
# CAPACITY:LANES each), then priority_load LOAD-ARGS against them; appends "SETUP key=value..." to the results.
# It runs in the script's own shell, not in $(...), so every PID it starts is in pids for the EXIT trap.
measure() {
  local setup=$1 p w i k=0 rc=0 logs=() flags workers state
  read -ra flags <<< "$2"
  read -ra workers <<< "$3"
  shift 3
  p=$(port)
  "$build/broker/argon-broker" --bind "tcp://127.0.0.1:$p" --insecure "${flags[@]}" 2>"$out/$setup.broker.log" & pids+=($!)
  logs+=("${pids[-1]}:broker")
  for w in "${workers[@]}"; do
    local lanes=()
    [[ $w == *:* ]] && lanes=(--lanes "${w#*:}")
    "$build/worker/argon-worker" --broker "tcp://127.0.0.1:$p" --insecure --capacity "${w%%:*}" "${lanes[@]}" \
      2>"$out/$setup.worker$k.log" & pids+=($!)
    logs+=("${pids[-1]}:worker$k")
    k=$((k + 1))
  done
  # At its default queue limit (3 x slots) a broker without slots refuses work: wait for them all.
  for i in $(seq 1 101); do
    "$build/tools/argon" status --broker "tcp://127.0.0.1:$p" --insecure 2>/dev/null | grep -q "\"slots\": $slots," && break
    [ "$i" -le 100 ] || { echo "priority.sh: the broker never had $slots slots" >&2; exit 1; }
    sleep 0.1
  done
  "$build/bench/priority_load" "$@" --broker "tcp://127.0.0.1:$p" > "$out/$setup.out" || rc=$?
  cat "$out/$setup.out" >&2
  if [ "$rc" -ne 0 ]; then
    # What a failure leaves behind: a broker or worker that died, or what they logged.
    for w in "${logs[@]}"; do
      running "${w%%:*}" && state="still running" || state="no longer running"
      echo "--- $setup: ${w#*:} ($state), the end of its log:"; tail -n 20 "$out/$setup.${w#*:}.log"
    done >&2
    exit "$rc"
  fi
  echo "$setup $(tail -n 1 "$out/$setup.out")" >> "$out/results"
  stop_all
}

flood=$((25 * slots))
lat=(latency --count "$high" --interval-ms "$interval_ms" --flood-ms "$flood_ms")
measure none "" "$slots" "${lat[@]}" --flood 0
measure flood "" "$slots" "${lat[@]}" --flood "$flood"
measure reserved "" "$((slots - 1)) 1:high" "${lat[@]}" --flood "$flood"
share=(share --seconds "$seconds" --window "$window" --task-ms "$task_ms")
measure default "" "$slots" "${share[@]}"
measure q100k "--queue-limit 100000" "$slots" "${share[@]}"

# field SETUP KEY: the value of KEY in SETUP's key=value line
field() { awk -v s="$1" -v k="$2" '$1==s { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$out/results"; }
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }
limit=$(field flood queue_limit)

echo "### High-priority latency under a low-priority flood"
echo
echo "$high high \`echo\` tasks, one every $interval_ms ms, each timed from submit to outcome (ms);"
echo "the flood keeps $flood low \`sleep $flood_ms\` tasks in flight against a queue limit of $limit."
echo
echo "| setup | high p50 | high p99 | high max | low tasks done | low tasks queued, fewest seen |"
echo "|---|---|---|---|---|---|"
declare -A label=([none]="no flood: $slots slots" [flood]="flood: $slots slots, every lane"
                  [reserved]="flood: $((slots - 1)) slots + 1 slot \`--lanes high\`")
for s in none flood reserved; do
  done_low="–" queued="–"
  [ "$(field "$s" flood)" = 0 ] || done_low=$(field "$s" low_done) queued=$(field "$s" low_queued_min)
  echo "| ${label[$s]} | $(ms "$(field "$s" p50_us)") | $(ms "$(field "$s" p99_us)") | $(ms "$(field "$s" max_us)") | $done_low | $queued |"
done
echo
echo "target: beside the flood, high max at most about one low task ($flood_ms ms): a high task waits for the"
echo "next free slot, never behind the $limit queued low tasks ($((limit / slots)) x $flood_ms ms more)"
echo
echo "target: with the reserved slot, high p99 within 5 ms of no flood"
echo
echo "### Two equal clients under contention"
echo
echo "Clients A and B each keep $window \`sleep $task_ms\` tasks of the normal lane in flight for $seconds s"
echo "on $slots slots; tasks each got done in that time."
echo
echo "| queue limit | client A | client B | smaller/larger | A/B | tasks/s | BUSY replies |"
echo "|---|---|---|---|---|---|---|"
for s in default q100k; do
  name=$(field "$s" queue_limit); [ "$s" = default ] && name="$name (default)"
  echo "| $name | $(field "$s" a_done) | $(field "$s" b_done) | $(field "$s" min_max) | $(field "$s" a_b) | $(field "$s" tasks_per_s) | $(field "$s" busy_replies) |"
done
echo
echo "target: smaller/larger at least 0.9 and A/B 0.9-1.1, at both queue limits"
