#!/usr/bin/python3
"""Submits one task per input, all at once, and prints each output in order.

    python/examples/submit.py --insecure echo hello world      # hello, then world
    python/examples/submit.py --key argon.key sleep 300 100     # 300, then 100, after 0.3 s
    python/examples/submit.py --insecure fail 'no disk'         # exit 1: task_error: no disk

The broker is --broker, else $ARGON_BROKER, else 127.0.0.1:5555; the
keyfile --key, else $ARGON_KEY. Run it with Debian's /usr/bin/python3
(python3-zmq, python3-msgpack, python3-nacl) from anywhere: it finds the
argon_client package next to it.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from argon_client import Client, ConfigError, TaskFailed  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description="Submit one Argon task per input and print the outputs.")
    parser.add_argument("--broker", help="host:port or tcp://host:port (default $ARGON_BROKER, else 127.0.0.1:5555)")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--key", help="the broker's keyfile (default $ARGON_KEY)")
    keys.add_argument("--insecure", action="store_true", help="talk to a broker started with --insecure")
    parser.add_argument("--priority", choices=["high", "normal", "low"], default="normal")
    parser.add_argument("--timeout", type=float, help="seconds until a task fails as timeout")
    parser.add_argument("task", help="the task name, e.g. echo, sleep, fail")
    parser.add_argument("inputs", nargs="+", help="one task per input, its payload")
    args = parser.parse_args()
    try:
        client = Client(args.broker, keyfile=args.key, insecure=args.insecure)
    except ConfigError as e:
        print(f"submit.py: {e}", file=sys.stderr)
        return 2
    failed = 0
    with client:
        # All at once: the client keeps the backlog, and a busy broker only slows it down.
        futures = [client.submit(args.task, text.encode(), priority=args.priority, timeout=args.timeout)
                   for text in args.inputs]
        for future in futures:
            try:
                sys.stdout.buffer.write(future.result() + b"\n")
            except TaskFailed as e:
                failed += 1
                print(f"{future.task_id}: {e.kind}: {e.message}", file=sys.stderr)
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
