#!/usr/bin/env bash
# Argon beside its peer baselines, in one run on this machine, written up as
# docs/benchmarks.md with a chart (docs/benchmarks.png).
#
# Throughput workload (the same for every system): echo tasks, 64-byte
# payloads, 8 worker slots on loopback, a client window of 1, 8, 64 and 256.
# Systems are interleaved round by round so drift hits all of them alike;
# the table gives the median of ROUNDS runs in tasks/s.
#   argon         argon-broker --insecure at its default settings (queue limit
#                 3 x slots = 24), one argon-worker --capacity 8, argon bench
#   argon-curve   the same with a keyfile (CURVE + ZAP)
#   argon-q100k   argon with --queue-limit 100000: the broker holds every task,
#                 the yardstick for the default settings
#   lbb, lbb-curve, gearman   ../shared/bench/run_baselines.sh
# Then, unless ARGON_BENCH_PARTS says otherwise, the same run goes on with
# bench/cpu.sh (CPU per task), bench/scale.sh (1,000 slots, 10,000 idle
# clients), bench/mixed.sh (makespan of 10 ms-2 s tasks) and
# bench/priority.sh (high-priority latency beside a low-priority flood, and
# the shares of two equal clients) and bench/brokers.sh (one client through
# one broker and through two), and bench/page.sh writes every table into the
# page.
# Usage: bench/run.sh [TASKS=20000] [ROUNDS=3] [WINDOWS="1 8 64 256"]
#   ARGON_BENCH_PARTS="throughput cpu scale mixed priority brokers"   which parts to run
#   ARGON_BENCH_PAGE=docs/benchmarks.md                       where to write; empty: print only
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tasks=${1:-20000} rounds=${2:-3} windows=${3:-"1 8 64 256"}
parts=${ARGON_BENCH_PARTS:-throughput cpu scale mixed priority brokers}
page=${ARGON_BENCH_PAGE-$root/docs/benchmarks.md}
baselines=${ARGON_BASELINES:-$root/../shared/bench/run_baselines.sh}
build=${ARGON_BUILD:-$root/build}
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT

need=(gearman-job-server libgearman-dev gnuplot-nox)
missing=(); for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; fi
[ -x "$build/tools/argon" ] || { "$root/scripts/deps" && meson setup "$build" "$root" >/dev/null && ninja -C "$build" >/dev/null; }

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# argon_run SYSTEM WINDOW -> prints tasks/s (and keeps the full last line in $out/argon-lines)
argon_run() {
  local sys=$1 window=$2 p keyflags=(--insecure) brokerflags=()
  p=$(port)
  case $sys in
    argon-curve)
      [ -f "$out/bench.key" ] || "$build/tools/argon" keygen "$out/bench.key" >/dev/null
      keyflags=(--key "$out/bench.key") ;;
    argon-q100k) brokerflags=(--queue-limit 100000) ;;
  esac
  "$build/broker/argon-broker" --bind "tcp://127.0.0.1:$p" "${keyflags[@]}" "${brokerflags[@]}" 2>/dev/null & local b=$!
  "$build/worker/argon-worker" --broker "tcp://127.0.0.1:$p" "${keyflags[@]}" --capacity 8 2>/dev/null & local w=$!
  pids+=("$b" "$w")
  # At its default queue limit (3 x slots) a broker without slots refuses work: wait for the 8.
  for _ in $(seq 1 100); do
    "$build/tools/argon" status --broker "tcp://127.0.0.1:$p" "${keyflags[@]}" 2>/dev/null | grep -q '"slots": 8' && break
    sleep 0.1
  done
  local line
  line=$("$build/tools/argon" bench --broker "tcp://127.0.0.1:$p" "${keyflags[@]}" --tasks "$tasks" --window "$window" --payload 64 | tail -1)
  kill "$b" "$w" 2>/dev/null || true; wait "$b" "$w" 2>/dev/null || true
  echo "$sys $window $line" >> "$out/argon-lines"
  echo "$line" | sed -n 's/.*tasks_per_s=\([0-9]*\).*/\1/p'
}

baseline_run() { "$baselines" "$1" "$2" "$tasks" 8 | awk '{print $3}'; }

if [[ " $parts " == *" throughput "* ]]; then
  systems=(argon argon-curve argon-q100k lbb lbb-curve gearman)
  for r in $(seq 1 "$rounds"); do
    for w in $windows; do
      for s in "${systems[@]}"; do
        case $s in argon*) v=$(argon_run "$s" "$w") ;; *) v=$(baseline_run "$s" "$w") ;; esac
        echo "$s $w $v" >> "$out/results"
        echo "round $r: $s window $w: $v tasks/s" >&2
      done
    done
  done
fi
# The other parts print their own tables; the page quotes them as they are.
[[ " $parts " == *" cpu "* ]] && bash "$root/bench/cpu.sh" "$tasks" "$rounds" 64 > "$out/cpu"
[[ " $parts " == *" scale "* ]] && bash "$root/bench/scale.sh" "$tasks" "$rounds" > "$out/scale"
[[ " $parts " == *" mixed "* ]] && bash "$root/bench/mixed.sh" > "$out/mixed"
[[ " $parts " == *" priority "* ]] && bash "$root/bench/priority.sh" > "$out/priority"
[[ " $parts " == *" brokers "* ]] && bash "$root/bench/brokers.sh" "$tasks" "$rounds" > "$out/brokers"

printf '%s\n' "bash bench/run.sh $tasks $rounds \"$windows\"" > "$out/command"
if [ -n "$page" ]; then
  bash "$root/bench/page.sh" "$out" "$page"
  echo "wrote $page and ${page%.md}.png" >&2
else
  ARGON_BENCH_PRINT=1 bash "$root/bench/page.sh" "$out" /dev/stdout
fi
