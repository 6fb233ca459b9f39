#!/usr/bin/env bash
# Argon beside its peer baselines, in one run on this machine.
#
# Workload (the same for every system): echo tasks, 64-byte payloads, 8 worker
# slots on loopback, a client window of 1, 8, 64 and 256. Systems are
# interleaved round by round so drift hits all of them alike; the table gives
# the median of ROUNDS runs in tasks/s.
#   argon         argon-broker --insecure at its default settings (queue limit
#                 3 x slots = 24), one argon-worker --capacity 8, argon bench
#   argon-curve   the same with a keyfile (CURVE + ZAP)
#   lbb, lbb-curve, gearman   ../shared/bench/run_baselines.sh
# Usage: bench/run.sh [TASKS=20000] [ROUNDS=3] [WINDOWS="1 8 64 256"]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tasks=${1:-20000} rounds=${2:-3} windows=${3:-"1 8 64 256"}
baselines=${ARGON_BASELINES:-$root/../shared/bench/run_baselines.sh}
build=${ARGON_BUILD:-$root/build}
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT

need=(gearman-job-server libgearman-dev)
missing=(); for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; fi
[ -x "$build/tools/argon" ] || { "$root/scripts/deps" && meson setup "$build" "$root" >/dev/null && ninja -C "$build" >/dev/null; }

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# argon_run SYSTEM WINDOW -> prints tasks/s (and keeps the full last line in $out)
argon_run() {
  local sys=$1 window=$2 p keyflags=(--insecure)
  p=$(port)
  if [ "$sys" = argon-curve ]; then
    [ -f "$out/bench.key" ] || "$build/tools/argon" keygen "$out/bench.key"
    keyflags=(--key "$out/bench.key")
  fi
  "$build/broker/argon-broker" --bind "tcp://127.0.0.1:$p" "${keyflags[@]}" 2>/dev/null & local b=$!
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

systems=(argon argon-curve lbb lbb-curve gearman)
for r in $(seq 1 "$rounds"); do
  for w in $windows; do
    for s in "${systems[@]}"; do
      case $s in argon*) v=$(argon_run "$s" "$w") ;; *) v=$(baseline_run "$s" "$w") ;; esac
      echo "$s $w $v" >> "$out/results"
      echo "round $r: $s window $w: $v tasks/s" >&2
    done
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print (b > 0 ? a / b : 0)}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
printf "\n%-7s %10s %12s %10s %12s %10s %14s %16s %14s\n" window argon argon-curve lbb lbb-curve gearman argon/lbb curve/lbb-curve argon/gearman
for w in $windows; do
  declare -A m=()
  for s in "${systems[@]}"; do m[$s]=$(awk -v s="$s" -v w="$w" '$1==s && $2==w {print $3}' "$out/results" | median); done
  printf "%-7s %10s %12s %10s %12s %10s %14.2f %16.2f %14.2f\n" "$w" "${m[argon]}" "${m[argon-curve]}" "${m[lbb]}" "${m[lbb-curve]}" "${m[gearman]}" \
    "$(ratio "${m[argon]}" "${m[lbb]}")" "$(ratio "${m[argon-curve]}" "${m[lbb-curve]}")" "$(ratio "${m[argon]}" "${m[gearman]}")"
done
echo
echo "argon latency (last line of each argon bench run):"
cat "$out/argon-lines"
