#!/usr/bin/env bash
# Makespan of a mixed workload: how close Argon comes to the best schedule.
#
# Workload: TASKS `sleep` tasks whose durations are drawn uniformly from 10 ms
# to 2 s with a fixed seed (build/bench/mixed_load), all submitted at once by
# one client through the C++ client library, to argon-broker --insecure at
# its default settings and one argon-worker --capacity SLOTS on loopback. The
# broker queues 3 x SLOTS tasks and answers BUSY to the rest; the client keeps
# those and sends them again as outcomes signal room. Prints the tasks, ok and
# failed counts, the total duration, the ideal makespan max(total / SLOTS,
# longest task), the measured one (first submit to last outcome) and their
# ratio. Target: ratio at most 1.05 with 2,000 tasks (a run of about 65 s).
# Exits nonzero when any task failed, and then shows the end of the broker's
# and the worker's logs and whether each is still running. A small batch has
# a larger ratio: the last tasks' tail is a bigger share of a shorter makespan.
# Usage: bench/mixed.sh [SEED=1] [TASKS=2000] [SLOTS=32]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seed=${1:-1} tasks=${2:-2000} slots=${3:-32}
build=${ARGON_BUILD:-$root/build}
out=$(mktemp -d)
pids=()
# Last started, first stopped: a worker whose broker has already gone waits for liveness x heartbeat before it exits.
cleanup() { for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

[ -x "$build/bench/mixed_load" ] || { "$root/scripts/deps" && meson setup "$build" "$root" >/dev/null && ninja -C "$build" >/dev/null; }

# running PID: the process exists and has not exited (a zombie has)
running() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

p=$(port)
"$build/broker/argon-broker" --bind "tcp://127.0.0.1:$p" --insecure 2>"$out/broker.log" & pids+=($!)
"$build/worker/argon-worker" --broker "tcp://127.0.0.1:$p" --insecure --capacity "$slots" 2>"$out/worker.log" & pids+=($!)
# At its default queue limit (3 x slots) a broker without slots refuses work: wait for them all.
for i in $(seq 1 101); do
  "$build/tools/argon" status --broker "tcp://127.0.0.1:$p" --insecure 2>/dev/null | grep -q "\"slots\": $slots," && break
  [ "$i" -le 100 ] || { echo "mixed.sh: the broker never had $slots slots" >&2; exit 1; }
  sleep 0.1
done
rc=0
"$build/bench/mixed_load" --broker "tcp://127.0.0.1:$p" --seed "$seed" --count "$tasks" --min-ms 10 --max-ms 2000 || rc=$?
if [ "$rc" -ne 0 ]; then
  # What a failure leaves behind: a broker or worker that died, or what they logged.
  for i in 0:broker 1:worker; do
    running "${pids[${i%%:*}]}" && state="still running" || state="no longer running"
    echo "--- ${i#*:} ($state), the end of its log:"; tail -n 20 "$out/${i#*:}.log"
  done >&2
  exit "$rc"
fi
echo "target: ratio at most 1.05 with 2,000 tasks"
