#!/usr/bin/env bash
# Installs Argon into a temporary directory, builds the two examples out of
# the tree with nothing but the installed headers, libraries and
# `pkg-config --cflags --libs`, and runs them against the installed broker:
# what someone building against an Argon package does. The shared libraries
# are tried, then the static client library.
# Usage: install_check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "install_check: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >/dev/null
pc=$(dirname "$(find "$tmp/root" -name argon-client.pc | head -1)")
[ -f "$pc/argon-worker.pc" ] || fail "argon-client.pc and argon-worker.pc are not installed side by side (found: $pc)"
export PKG_CONFIG_PATH=$pc
bin=$(pkg-config --variable=prefix argon-client)/bin
libdir=$(pkg-config --variable=libdir argon-client)
for h in client.hpp worker.hpp task_context.hpp error.hpp protocol.hpp plugin.h; do
  [ -f "$(pkg-config --variable=includedir argon-client)/argon/$h" ] || fail "argon/$h is not installed"
done
for f in "$libdir"/libargon-client.so.0 "$libdir"/libargon-worker.so.0 "$libdir"/libargon-client.a "$libdir"/libargon-worker.a; do
  [ -e "$f" ] || fail "$f is not installed"
done
for page in man1/argon.1 man1/argon-monitor.1 man8/argon-broker.8 man8/argon-worker.8; do
  f=$(find "$tmp/root" -path "*/man/$page" | head -1)
  [ -n "$f" ] || fail "the manual page $page is not installed"
  grep -qF -- '\-\-version' "$f" || fail "$page does not list the program's flags"
done
grep -q 'submit' "$(find "$tmp/root" -path '*/man/man1/argon.1')" || fail "argon.1 does not list the subcommands"
for unit in argon-broker.service argon-worker@.service; do
  f=$(find "$tmp/root" -path "*/systemd/system/$unit" | head -1)
  [ -n "$f" ] || fail "the unit $unit is not installed"
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$f")
  [ -x "$tmp/root$exec_start" ] || fail "$unit runs $exec_start, which is not installed"
done
# Where systemd-analyze is at hand, the units must load without a complaint
# (those about this machine itself, a missing sysinit.target or man, aside).
if command -v systemd-analyze >/dev/null; then
  units=$(dirname "$(find "$tmp/root" -path '*/systemd/system/argon-broker.service')")
  cp "$units/argon-worker@.service" "$tmp/argon-worker@pool.service"
  for u in "$units/argon-broker.service" "$tmp/argon-worker@pool.service"; do
    complaints=$(systemd-analyze verify --root="$tmp/root" "$u" 2>&1 | grep -v -e 'sysinit.target' -e "Command 'man " || true)
    [ -z "$complaints" ] || fail "systemd-analyze verify $(basename "$u"): $complaints"
  done
fi
for lib in client worker; do
  soname=$(objdump -p "$libdir/libargon-$lib.so" | awk '/SONAME/ {print $2}')
  [ "$soname" = "libargon-$lib.so.0" ] || fail "libargon-$lib.so has SONAME '$soname', not libargon-$lib.so.0"
done

cxx=${CXX:-c++}
# shellcheck disable=SC2046  # pkg-config's words are meant to split
$cxx -std=c++20 -o "$tmp/client" "$src/examples/batch_client.cpp" $(pkg-config --cflags --libs argon-client CLI11)
# shellcheck disable=SC2046
$cxx -std=c++20 -o "$tmp/worker" "$src/examples/custom_worker.cpp" $(pkg-config --cflags --libs argon-worker CLI11)
# The static library: the archive by name, and the system libraries it needs
# (its Requires.private) as shared ones, as a program that embeds Argon links.
# shellcheck disable=SC2046
$cxx -std=c++20 -o "$tmp/client-static" "$src/examples/batch_client.cpp" $(pkg-config --cflags argon-client CLI11) \
  "$libdir/libargon-client.a" $(pkg-config --libs $(pkg-config --print-requires-private argon-client | awk '{print $1}')) -pthread
ldd "$tmp/client-static" | grep -q libargon && fail "the static build still needs a shared libargon"

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export LD_LIBRARY_PATH=$libdir
"$bin/argon-broker" --bind "tcp://127.0.0.1:$port" --insecure 2>"$tmp/broker.log" & pids+=($!)
"$tmp/worker" --broker "tcp://127.0.0.1:$port" --insecure --capacity 2 2>"$tmp/worker.log" & pids+=($!)
for _ in $(seq 1 100); do
  "$bin/argon" status --broker "127.0.0.1:$port" --insecure 2>/dev/null | grep -q '"slots": 2' && break
  sleep 0.1
done
for c in client client-static; do
  out=$("$tmp/$c" --broker "tcp://127.0.0.1:$port" --insecure wordcount "the quick brown fox" reverse stressed) \
    || fail "$c exited $? (broker log: $(tail -5 "$tmp/broker.log"); worker log: $(tail -5 "$tmp/worker.log"))"
  grep -q "wordcount the quick brown fox -> 4" <<<"$out" || fail "$c printed: $out"
  grep -q "reverse stressed -> desserts" <<<"$out" || fail "$c printed: $out"
done
echo "install_check: installed headers, libraries (SONAME .so.0 and .a) and pkg-config files build and run both examples"
