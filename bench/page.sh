#!/usr/bin/env bash
# Writes the results of one bench/run.sh as a Markdown page, with a PNG chart
# of tasks/s by window beside it (PAGE with .png for .md).
# Input, in OUTDIR (written by bench/run.sh; any file may be missing):
#   results      "SYSTEM WINDOW TASKS_PER_S", one line per run
#   argon-lines  "SYSTEM WINDOW tasks_per_s=N p50_us=N p99_us=N", one per Argon run
#   cpu, scale, mixed   the tables printed by bench/cpu.sh, scale.sh, mixed.sh
#   priority, brokers   the Markdown tables printed by bench/priority.sh, brokers.sh
#   command      the command line that made them
# Every figure is a median over the rounds of that run; nothing is carried
# over from an earlier run.
# Usage: bench/page.sh OUTDIR PAGE
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
in=$1 page=$2
build=${ARGON_BUILD:-$root/build}
systems=(argon argon-curve argon-q100k lbb lbb-curve gearman)

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
# rate SYSTEM WINDOW: median tasks/s
rate() { [ -f "$in/results" ] && awk -v s="$1" -v w="$2" '$1==s && $2==w {print $3}' "$in/results" | median; }
# latency SYSTEM WINDOW FIELD(p50_us|p99_us): median of that field over the Argon runs
latency() {
  [ -f "$in/argon-lines" ] && awk -v s="$1" -v w="$2" -v f="$3" '$1==s && $2==w {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' "$in/argon-lines" | median
}
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
ms() { awk -v u="${1:-0}" 'BEGIN {printf "%.2f", u / 1000}'; }
# Empty when the run had no throughput part (ARGON_BENCH_PARTS): the page then holds the other sections only.
windows=$(if [ -f "$in/results" ]; then awk '{print $2}' "$in/results" | sort -n -u | tr '\n' ' '; fi)
# The commit measured, "-dirty" when code differs from it; the page and its
# chart do not count (writing the page opens it before this line is printed).
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD -- . ':!docs/benchmarks.md' ':!docs/benchmarks.png' 2>/dev/null || commit+=-dirty

machine() {
  local cpu mem os zmq
  cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
  mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  zmq=$(pkg-config --modversion libzmq 2>/dev/null || echo unknown)
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: ${cpu:-unknown CPU}, $(nproc) cores, $mem; $os, Linux $(uname -r)"
  echo "- Argon: $("$build/tools/argon" --version 2>/dev/null || echo unknown), commit $commit; libzmq $zmq; $(gearmand --version 2>&1 | grep -m1 gearmand | awk '{print $1, $2}' || echo "gearmand not installed")"
}

throughput_tables() {
  echo "## Throughput"
  echo
  echo "Echo tasks, 64-byte payloads, one worker of 8 slots on loopback, one"
  echo "client keeping WINDOW tasks in flight; tasks/s, median of the rounds."
  echo "\`argon\` is the broker at its default settings (queue limit 3 × slots ="
  echo "24), \`argon-q100k\` the same with \`--queue-limit 100000\`; \`lbb\` is the"
  echo "raw ZeroMQ load-balancing broker (zguide's LBB: ROUTER/ROUTER, REQ slots,"
  echo "a DEALER client), the floor of Argon's design; \`gearman\` is gearmand"
  echo "with one thread and libgearman echo workers."
  echo
  echo "![tasks/s by window](benchmarks.png)"
  echo
  echo "| window | argon | argon-curve | argon-q100k | lbb | lbb-curve | gearman | argon/lbb | curve/lbb-curve | argon/gearman |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for w in $windows; do
    local -A m=()
    for s in "${systems[@]}"; do m[$s]=$(rate "$s" "$w"); done
    echo "| $w | ${m[argon]} | ${m[argon-curve]} | ${m[argon-q100k]} | ${m[lbb]} | ${m[lbb-curve]} | ${m[gearman]} | $(ratio "${m[argon]}" "${m[lbb]}") | $(ratio "${m[argon-curve]}" "${m[lbb-curve]}") | $(ratio "${m[argon]}" "${m[gearman]}") |"
  done
  echo
  echo "## Latency"
  echo
  echo "Each task's time from submit to outcome at the client, in ms (median of"
  echo "the rounds' p50 and p99). The raw LBB client does not time single tasks;"
  echo "at window 1 its mean latency is 1 / its tasks/s, given beside Argon's."
  echo
  echo "| window | argon p50 | argon p99 | argon-curve p50 | argon-curve p99 | argon-q100k p50 | argon-q100k p99 | lbb mean |"
  echo "|---|---|---|---|---|---|---|---|"
  for w in $windows; do
    local lbb_mean="–"
    [ "$w" = 1 ] && lbb_mean=$(awk -v r="$(rate lbb 1)" 'BEGIN {printf "%.2f", (r > 0 ? 1000 / r : 0)}')
    echo "| $w | $(ms "$(latency argon "$w" p50_us)") | $(ms "$(latency argon "$w" p99_us)") | $(ms "$(latency argon-curve "$w" p50_us)") | $(ms "$(latency argon-curve "$w" p99_us)") | $(ms "$(latency argon-q100k "$w" p50_us)") | $(ms "$(latency argon-q100k "$w" p99_us)") | $lbb_mean |"
  done
  echo
  echo "## The default settings against a broker that holds every task"
  echo
  echo "A window larger than the default queue limit (24) is refused in part as"
  echo "busy; the client keeps those tasks and sends each again when an outcome"
  echo "arrives (room signalling, architecture.md)."
  echo
  echo "| window | default tasks/s | q100k tasks/s | ratio | default p99 ms | q100k p99 ms | p99 ratio |"
  echo "|---|---|---|---|---|---|---|"
  for w in $windows; do
    [ "$w" -ge 64 ] || continue
    local a q ap qp
    a=$(rate argon "$w") q=$(rate argon-q100k "$w") ap=$(latency argon "$w" p99_us) qp=$(latency argon-q100k "$w" p99_us)
    echo "| $w | $a | $q | $(ratio "$a" "$q") | $(ms "$ap") | $(ms "$qp") | $(ratio "$ap" "$qp") |"
  done
  echo
}

chart() {
  local png=$1 data
  data=$(mktemp)
  for w in $windows; do
    printf '%s' "$w"; for s in "${systems[@]}"; do printf ' %s' "$(rate "$s" "$w")"; done; echo
  done > "$data"
  gnuplot <<GNUPLOT
set terminal pngcairo size 900,540 font "sans,11"
set output "$png"
set title "Echo tasks/s by client window (8 slots, 64-byte payloads)"
set xlabel "window (tasks in flight)"; set ylabel "tasks/s"
set logscale x 2; set xrange [0.8:330]; set xtics ($(echo "$windows" | sed 's/ *$//; s/ /, /g'))
set yrange [0:*]; set grid; set key left top
plot for [i=2:7] "$data" using 1:i with linespoints lw 2 title word("${systems[*]}", i-1)
GNUPLOT
  rm -f "$data"
}

section() {  # section TITLE FILE COMMAND
  [ -s "$in/$2" ] || return 0
  printf '## %s\n\n`%s`\n\n```\n' "$1" "$3"
  cat "$in/$2"
  printf '```\n\n'
}

section_md() {  # section_md TITLE FILE COMMAND: FILE is Markdown already and goes in as it is
  [ -s "$in/$2" ] || return 0
  printf '## %s\n\n`%s`\n\n' "$1" "$3"
  cat "$in/$2"
  echo
}

{
  echo "# Benchmarks"
  echo
  echo "Written by \`$(cat "$in/command" 2>/dev/null || echo 'bash bench/run.sh')\` on one machine, in one run;"
  echo "every figure below comes from that run. Run it again to see your own machine."
  echo
  machine
  echo
  [ -n "$windows" ] && throughput_tables
  section "CPU time per task" cpu "bash bench/cpu.sh TASKS ROUNDS 64"
  section "Scale: many slots, many idle clients" scale "bash bench/scale.sh TASKS ROUNDS"
  section "Makespan of mixed task lengths" mixed "bash bench/mixed.sh"
  section_md "Priorities and fairness" priority "bash bench/priority.sh"
  section_md "Several brokers" brokers "bash bench/brokers.sh TASKS ROUNDS"
} > "$page"
if [ -n "$windows" ] && [[ "$page" == *.md ]]; then chart "${page%.md}.png"; fi
