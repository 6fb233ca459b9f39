#!/usr/bin/env bash
# Broker CPU time per task as the broker grows: many slots, many idle clients.
#
# Workload: echo tasks, 64-byte payloads, `argon bench --window 64` on
# loopback, argon-broker --insecure at its default settings, in three setups:
#   8 slots        one argon-worker --capacity 8 (queue limit 3 x 8 = 24, so a
#                  window of 64 meets BUSY replies and room signalling)
#   1000 slots     10 argon-workers --capacity 100 (queue limit 3,000: no BUSY)
#   8 slots + IDLE idle clients
#                  one argon-worker --capacity 8 and IDLE connected clients
#                  (build/bench/idle_clients) that have PINGed, been answered,
#                  and send nothing more, as idle library clients do; split
#                  over as many processes as the open-file hard limit needs
#                  (two files per client)
# Each run waits until every slot has registered (argon status) and every idle
# client has been answered, then reads the broker's CPU time (utime + stime of
# all its threads, /proc/PID/stat) just before argon bench starts and again
# when it ends: set-up is not counted, whatever the idle clients cost during
# the run is. Setups are interleaved round by round; the table gives medians of
# ROUNDS runs in µs per task, the ratio to 8 slots, tasks/s, BUSY replies per
# task, and the broker's CPU in the 2 s before the run (ms per second: what
# the connected peers cost it with no task at all). Target: 1000 slots and the idle clients each at most 1.2 x the
# 8-slot figure.
# The broker holds a file per connection: the script raises the soft
# open-file limit to the hard one and stops if that is under IDLE + 1,200.
# Usage: bench/scale.sh [TASKS=20000] [ROUNDS=3] [IDLE=10000]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tasks=${1:-20000} rounds=${2:-3} idle=${3:-10000}
build=${ARGON_BUILD:-$root/build}
out=$(mktemp -d)
pids=()
# Last started, first stopped: a worker whose broker has already gone waits for liveness x heartbeat before it exits.
cleanup() { for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

[ -x "$build/bench/idle_clients" ] || { "$root/scripts/deps" && meson setup "$build" "$root" >/dev/null && ninja -C "$build" >/dev/null; }
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ]; then
  [ "$hard" -ge $((idle + 1200)) ] || { echo "scale.sh: the broker needs about $((idle + 1200)) open files for $idle idle clients and 1000 slots; the hard limit (ulimit -Hn) is $hard" >&2; exit 1; }
  ulimit -n "$hard"
fi
per_process=$(( ${hard/unlimited/1000000} / 2 - 64 ))  # idle clients one process can hold: two files each
tick=$(getconf CLK_TCK)

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# cpu_ticks PID: utime + stime of the process and all its threads, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status() { "$build/tools/argon" status --broker "tcp://127.0.0.1:$1" --insecure 2>/dev/null; }

# wait_slots PORT N: until the broker has N slots registered
wait_slots() {
  for _ in $(seq 1 600); do status "$1" | grep -q "\"slots\": $2," && return 0; sleep 0.1; done
  echo "scale.sh: the broker never had $2 slots" >&2; exit 1
}

# start_idle PORT N: N idle clients shared evenly by ceil(N / per_process) processes; returns once all have been answered
start_idle() {
  local p=$1 n=$2 procs k gen=()
  procs=$(( (n + per_process - 1) / per_process ))
  for k in $(seq 0 $((procs - 1))); do
    "$build/bench/idle_clients" --broker "tcp://127.0.0.1:$p" --clients $(( n / procs + (k < n % procs) )) > "$out/idle.$k" &
    gen+=($!) pids+=($!)
  done
  echo "$2 idle clients in ${#gen[@]} process(es)" >&2
  for k in "${!gen[@]}"; do
    until grep -q "connected and answered PING" "$out/idle.$k"; do
      kill -0 "${gen[k]}" 2>/dev/null || { echo "scale.sh: idle_clients stopped before its clients were all answered" >&2; exit 1; }
      sleep 0.1
    done
  done
}

# measure ROUND SETUP: appends "SETUP broker_us_per_task tasks_per_s busy_replies_per_task idle_ms_per_s" to the results.
# It runs in the script's own shell, not in $(...), so every PID it starts is in pids for the EXIT trap.
measure() {
  local round=$1 setup=$2 p b started=() line a0 t0 b0 t1 b1 busy v
  p=$(port)
  "$build/broker/argon-broker" --bind "tcp://127.0.0.1:$p" --insecure 2>/dev/null & b=$!
  pids+=("$b")
  if [ "$setup" = s1000 ]; then
    for _ in $(seq 1 10); do
      "$build/worker/argon-worker" --broker "tcp://127.0.0.1:$p" --insecure --capacity 100 2>/dev/null & started+=($!) pids+=($!)
    done
    wait_slots "$p" 1000
  else
    "$build/worker/argon-worker" --broker "tcp://127.0.0.1:$p" --insecure --capacity 8 2>/dev/null & started+=($!) pids+=($!)
    wait_slots "$p" 8
  fi
  local before=${#pids[@]}
  if [ "$setup" = idle ]; then start_idle "$p" "$idle"; started+=("${pids[@]:$before}"); fi
  # Heartbeats settle into their steady rhythm before the clock starts; the broker's CPU
  # meanwhile, with no task, is what the connected peers alone cost it.
  a0=$(cpu_ticks "$b") t0=$(date +%s%N)
  sleep 2
  b0=$(cpu_ticks "$b") t1=$(date +%s%N)
  line=$("$build/tools/argon" bench --broker "tcp://127.0.0.1:$p" --insecure --tasks "$tasks" --window 64 --payload 64 | tail -1)
  b1=$(cpu_ticks "$b")
  busy=$(status "$p" | sed -n 's/.*"busy_replies": \([0-9]*\).*/\1/p')
  kill "${started[@]}" 2>/dev/null || true; wait "${started[@]}" 2>/dev/null || true  # before the broker (see cleanup)
  kill "$b" 2>/dev/null || true; wait "$b" 2>/dev/null || true
  pids=()  # all stopped: a PID the system hands out again later must not be killed
  v=$(awk -v b=$((b1 - b0)) -v t="$tick" -v n="$tasks" -v busy="$busy" -v a=$((b0 - a0)) -v ns=$((t1 - t0)) \
        -v r="$(echo "$line" | sed -n 's/.*tasks_per_s=\([0-9]*\).*/\1/p')" \
        'BEGIN { printf "%.1f %d %.2f %.0f\n", b / t * 1e6 / n, r, busy / n, a / t * 1e3 / (ns / 1e9) }')
  echo "$setup $v" >> "$out/results"
  echo "round $round: ${label[$setup]}: broker µs/task, tasks/s, busy/task, idle CPU ms/s: $v" >&2
}

setups=(s8 s1000 idle)
declare -A label=([s8]="8 slots" [s1000]="1000 slots" [idle]="8 slots + $idle idle clients")
for r in $(seq 1 "$rounds"); do
  for s in "${setups[@]}"; do measure "$r" "$s"; done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v s="$1" -v c="$2" '$1==s {print $c}' "$out/results" | median; }
base=$(col s8 2)
echo
echo "Broker CPU per task: $tasks echo tasks, 64-byte payloads, window 64, --insecure, default settings; medians of $rounds rounds"
printf "%-32s %15s %6s %8s %10s %16s\n" setup "broker µs/task" ratio tasks/s busy/task "idle CPU ms/s"
for s in "${setups[@]}"; do
  us=$(col "$s" 2)
  printf "%-32s %14s %6s %8s %10s %16s\n" "${label[$s]}" "$us" "$(awk -v a="$us" -v b="$base" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')" \
    "$(col "$s" 3)" "$(col "$s" 4)" "$(col "$s" 5)"
done
echo "target: 1000 slots and 8 slots + $idle idle clients each at most 1.20 x 8 slots"
