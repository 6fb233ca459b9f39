#!/usr/bin/env bash
# CPU time per task of each process, Argon beside the raw ZeroMQ
# load-balancing broker (the floor of Argon's architecture), in one run.
#
# Workload: echo tasks, 64-byte payloads, one worker process of 8 slots on
# loopback, a client window of W (64 by default). For each system the broker
# and the worker start first; their CPU time (utime + stime of all threads,
# from /proc/PID/stat) is read just before the client starts and again when
# it has finished, so start-up work (key derivation) is not counted. The
# client's CPU time is its whole run, from the shell's `times`. Each figure
# is the median over ROUNDS interleaved rounds, in microseconds per task.
#   argon        argon-broker --insecure (default settings), argon-worker --capacity 8, argon bench
#   argon-curve  the same with a keyfile (CURVE + ZAP)
#   lbb          ../shared/bench/lbb_raw.cpp: broker, worker, client
#   lbb-curve    the same with CURVE on every socket
# Usage: bench/cpu.sh [TASKS=20000] [ROUNDS=3] [WINDOW=64]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tasks=${1:-20000} rounds=${2:-3} window=${3:-64}
build=${ARGON_BUILD:-$root/build}
shared=${ARGON_SHARED_BENCH:-$root/../shared/bench}
lbb=${BASELINE_BUILD:-/tmp/argon-baselines}/lbb_raw
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT

[ -x "$build/tools/argon" ] || { "$root/scripts/deps" && meson setup "$build" "$root" >/dev/null && ninja -C "$build" >/dev/null; }
mkdir -p "$(dirname "$lbb")"
[ -x "$lbb" ] && [ "$lbb" -nt "$shared/lbb_raw.cpp" ] || g++ -O2 -std=c++20 -o "$lbb" "$shared/lbb_raw.cpp" -lzmq -lsodium -lpthread
tick=$(getconf CLK_TCK)

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
listening() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing on port $1" >&2; exit 1; }
# cpu_ticks PID: utime + stime of the process and all its threads, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# client_seconds: the CPU seconds (user + system) of the children `times` reported, read on stdin
client_seconds() { awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }'; }

# measure SYSTEM: prints "broker_us worker_us client_us" per task
measure() {
  local sys=$1 b w f p keyflags=(--insecure) client_cmd
  case $sys in
    argon|argon-curve)
      p=$(port)
      if [ "$sys" = argon-curve ]; then
        [ -f "$out/bench.key" ] || "$build/tools/argon" keygen "$out/bench.key" >/dev/null
        keyflags=(--key "$out/bench.key")
      fi
      "$build/broker/argon-broker" --bind "tcp://127.0.0.1:$p" "${keyflags[@]}" 2>/dev/null & b=$!
      "$build/worker/argon-worker" --broker "tcp://127.0.0.1:$p" "${keyflags[@]}" --capacity 8 2>/dev/null & w=$!
      pids+=("$b" "$w")
      listening "$p"
      client_cmd=("$build/tools/argon" bench --broker "tcp://127.0.0.1:$p" "${keyflags[@]}" --tasks "$tasks" --window "$window" --payload 64) ;;
    lbb|lbb-curve)
      [ "$sys" = lbb-curve ] && export LBB_CURVE=1 || export LBB_CURVE=0
      f=$(port) p=$(port)
      "$lbb" broker "tcp://127.0.0.1:$f" "tcp://127.0.0.1:$p" & b=$!
      listening "$f"; listening "$p"
      "$lbb" worker "tcp://127.0.0.1:$p" 8 & w=$!
      pids+=("$b" "$w")
      client_cmd=("$lbb" client "tcp://127.0.0.1:$f" "$tasks" "$window") ;;
  esac
  sleep 1  # the worker's slots register (and an Argon worker derives its keys) before the clock starts
  local b0 w0 b1 w1 c
  b0=$(cpu_ticks "$b") w0=$(cpu_ticks "$w")
  c=$( ("${client_cmd[@]}" >/dev/null; times) | client_seconds)
  b1=$(cpu_ticks "$b") w1=$(cpu_ticks "$w")
  kill "$b" "$w" 2>/dev/null || true; wait "$b" "$w" 2>/dev/null || true
  awk -v b=$((b1 - b0)) -v w=$((w1 - w0)) -v c="$c" -v t="$tick" -v n="$tasks" \
    'BEGIN { printf "%.1f %.1f %.1f\n", b / t * 1e6 / n, w / t * 1e6 / n, c * 1e6 / n }'
}

systems=(argon argon-curve lbb lbb-curve)
for r in $(seq 1 "$rounds"); do
  for s in "${systems[@]}"; do
    v=$(measure "$s")
    echo "$s $v" >> "$out/results"
    echo "round $r: $s: broker, worker, client µs/task: $v" >&2
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v s="$1" -v c="$2" '$1==s {print $c}' "$out/results" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo
echo "CPU µs per task: $tasks echo tasks, 64-byte payloads, 8 slots, window $window; medians of $rounds rounds"
printf "%-8s %10s %12s %8s %10s %12s %12s\n" process argon lbb ratio argon-curve lbb-curve curve-ratio
for i in 2:broker 3:worker 4:client; do
  c=${i%%:*} name=${i#*:}
  a=$(col argon "$c") l=$(col lbb "$c") ac=$(col argon-curve "$c") lc=$(col lbb-curve "$c")
  printf "%-8s %10s %12s %8s %10s %12s %12s\n" "$name" "$a" "$l" "$(ratio "$a" "$l")" "$ac" "$lc" "$(ratio "$ac" "$lc")"
done
