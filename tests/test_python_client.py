"""Tests of the Python client (python/argon_client), with the standard library's unittest.

The key tests check docs/protocol.md §7's vectors; the keepalive, backoff and
codec tests run without a broker; the end-to-end tests start the real
argon-broker and argon-worker on free 127.0.0.1 ports and always kill them
by PID when the test ends, pass or fail. meson runs this file in suite
'e2e' with ARGON_BROKER_PROGRAM, ARGON_WORKER and ARGON_CLI set; run by
hand, it falls back to the programs in build/, and skips the end-to-end
tests when there are none. Assertions are on what a caller sees: outputs,
failure kinds, and that every task ends exactly once.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import msgpack  # noqa: E402
import zmq  # noqa: E402

from argon_client import Client, ConfigError, RetryPolicy, TaskFailed, derive_keys  # noqa: E402
from argon_client import keys as keys_module  # noqa: E402
from argon_client import protocol  # noqa: E402
from argon_client.keepalive import ContactNews, Keepalive, KeepaliveSettings, LinkState, TickAction  # noqa: E402
from argon_client.retry import busy_backoff  # noqa: E402

FAST_BEATS = ["--heartbeat-ms", "200", "--liveness", "3"]  # brokers and workers that notice a loss in 0.6 s


def program(env_name: str, fallback: str) -> str:
    """An Argon program's path: from meson's environment, else from build/; "" when neither exists."""
    path = os.environ.get(env_name) or os.path.join(ROOT, "build", fallback)
    return path if os.access(path, os.X_OK) else ""


BROKER = program("ARGON_BROKER_PROGRAM", "broker/argon-broker")
WORKER = program("ARGON_WORKER", "worker/argon-worker")
CLI = program("ARGON_CLI", "tools/argon")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KeyDerivationTest(unittest.TestCase):
    """docs/protocol.md §7: the test vectors, and the master-key keyfile format."""

    HEX_KEYFILE = b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

    def test_passphrase_vector(self):
        secret = b"correct horse battery staple\n"
        self.assertEqual(keys_module.master_key(secret).hex(),
                         "64215206cddfdf6f3ca349c7d03b7e012c28e0e8d60d334f7d6ce15dc328289b")
        k = derive_keys(secret)
        self.assertEqual(k.broker.public.hex(), "c586ffb72f15bc7be82d4a30670712663393f4fbd079017e871458dcebc00c1f")
        self.assertEqual(k.worker.public.hex(), "df2d5e0bca0318677f71f6017cb70348225e76591955856e38933dbbda8cc52f")
        self.assertEqual(k.client.public.hex(), "11c3b68af78da07f9152cb704f53815f982bca508fef8ed6bddf2ba293cba95a")
        self.assertEqual(k.broker.public_z85(), b"-FjA4fbqcD>Q/yXx9P5YgN4Fd^0kUvHzi>C(+A]J")

    def test_hex_keyfile_of_older_keygen_is_a_passphrase(self):
        k = derive_keys(self.HEX_KEYFILE + b"\n")
        self.assertEqual(k.broker.public.hex(), "403b750e4ff4d147dbc34f6eb2722187f7928a47d91244cae824e06b71b7ea7d")
        self.assertEqual(k.worker.public.hex(), "559086031e83cf93a36e416d4660b1a0bf70d05d7f935bf658cb20ea980fcc61")
        self.assertEqual(k.client.public.hex(), "39c00710554eeae58fdd9f0d9cf1c029662b108d3d454cd5b595f9500eee7253")
        self.assertEqual(k.broker.public_z85(), b"kS:8#pXr48*RV*8Vt}az{Myz7/+cY}>P]84AKUjY")

    def test_master_key_vector(self):
        # The expected keys are libsodium's crypto_kdf_derive_from_key and
        # crypto_box_seed_keypair on the master key 00 01 .. 1f, computed in C.
        with mock.patch.object(keys_module, "_argon2id", side_effect=AssertionError("Argon2id was run")):
            k = derive_keys(b"argon-master-key:" + self.HEX_KEYFILE + b"\n")
        self.assertEqual(k.broker.public.hex(), "3080980a4805d2dea53abb1ae8fa6573088d80f79b22ef241db40d8c4413b70a")
        self.assertEqual(k.worker.public.hex(), "cb7f393469c443876a42f30213a9f51238a9a7e004debf8f4d9285989d8ef35b")
        self.assertEqual(k.client.public.hex(), "2854284595b7164d234d47e9364e287abbbaacd587031c203273c0d31c95ee24")

    def test_master_key_in_either_case_and_any_trailing_newlines(self):
        lower = derive_keys(b"argon-master-key:" + self.HEX_KEYFILE)
        self.assertEqual(derive_keys(b"argon-master-key:" + self.HEX_KEYFILE.upper() + b"\r\n\n"), lower)
        self.assertEqual(keys_module.master_key(b"argon-master-key:" + self.HEX_KEYFILE), bytes(range(32)))

    def test_a_damaged_master_key_is_refused(self):
        hexkey = self.HEX_KEYFILE
        spaced = hexkey[:32] + b" " + hexkey[32:]  # bytes.fromhex would take it: the check must not
        for bad in (b"", hexkey[2:], hexkey + b"00", hexkey[:62] + b"zz", b" " + hexkey, spaced):
            with self.subTest(bad=bad), self.assertRaisesRegex(ConfigError, "64 hex digits"):
                derive_keys(b"argon-master-key:" + bad)

    def test_another_prefix_is_a_passphrase(self):
        self.assertNotEqual(derive_keys(b"Argon-master-key:" + self.HEX_KEYFILE),
                            derive_keys(b"argon-master-key:" + self.HEX_KEYFILE))

    def test_an_empty_keyfile_is_refused(self):
        for empty in (b"", b"\n", b"\r\n"):
            with self.subTest(empty=empty), self.assertRaisesRegex(ConfigError, "empty"):
                derive_keys(empty)


class KeepaliveTest(unittest.TestCase):
    """The keepalive state machine and the busy backoff, on a clock handed in."""

    def test_pings_until_first_contact_then_only_while_busy(self):
        k = Keepalive(KeepaliveSettings(heartbeat=1.0, liveness=3))
        k.start(0.0)
        self.assertIs(k.tick(1.0), TickAction.PING)
        self.assertIs(k.contact(1.5, "b1"), ContactNews.FIRST_CONTACT)
        self.assertIs(k.tick(2.0), TickAction.NONE)  # idle: nothing sent
        self.assertIs(k.tick(60.0), TickAction.NONE)  # and silence is not held against the broker
        self.assertTrue(k.set_idle(False, 60.5))  # work resumes: ping at once
        self.assertIs(k.tick(61.0), TickAction.PING)
        self.assertIs(k.tick(63.6), TickAction.LOSE)  # 3 heartbeats of silence since work resumed
        self.assertIs(k.state, LinkState.LOST)
        self.assertEqual(k.give_up_at(10.0), 63.6 + 60.0)
        self.assertIs(k.contact(64.0, "b1"), ContactNews.BACK)
        self.assertIs(k.contact(65.0, "b2"), ContactNews.RESTARTED)
        self.assertIsNone(k.give_up_at(10.0))

    def test_before_contact_reconnects_on_a_doubling_backoff(self):
        k = Keepalive(KeepaliveSettings(heartbeat=1.0, liveness=3, connect_timeout=5.0))
        k.start(0.0)
        self.assertEqual(k.give_up_at(2.0), 7.0)
        actions = [k.tick(float(t)) for t in range(1, 12)]
        self.assertEqual([t + 1 for t, a in enumerate(actions) if a is TickAction.RECONNECT], [3, 4, 6, 10])

    def test_busy_backoff(self):
        p = RetryPolicy(base=1.0, jitter=0.1)
        self.assertEqual(busy_backoff(p, 1, 0, 0.5), 1.0)
        self.assertAlmostEqual(busy_backoff(p, 3, 0, 0.5), 2.099, places=3)
        self.assertEqual(busy_backoff(p, 1, 5000, 0.5), 5.0)  # the broker's hint when longer
        self.assertEqual(busy_backoff(p, 1, 100000, 0.5), 32.0)  # at most 32 s
        self.assertEqual(busy_backoff(p, 1, 0, 0.0), 0.9)
        self.assertEqual(busy_backoff(p, 1, 0, 1.0), 1.1)


class CodecTest(unittest.TestCase):
    """protocol.decode: what the broker may send, and a clean ProtocolError for anything else."""

    @staticmethod
    def frames(*header, payload=None):
        out = [b"", msgpack.packb(list(header), use_bin_type=True)]
        return out + ([payload] if payload is not None else [])

    def test_replies_decode(self):
        m = protocol.decode(self.frames(1, 3, 10, "t-1", payload=b"out"))
        self.assertEqual((m.command, m.fields, m.payload), (protocol.Command.RESULT, {"id": "t-1"}, b"out"))
        self.assertEqual(protocol.decode(self.frames(1, 3, 14, "inst")).fields, {"broker": "inst", "max_payload": 0})
        busy = protocol.decode(self.frames(1, 3, 12, "t-2", 6, 6, 2, 1000, "queue_full")).fields
        self.assertEqual(busy["retry_after_ms"], 1000)
        self.assertEqual(protocol.decode(self.frames(1, 3, 14, "inst", 99, "later")).fields["max_payload"], 99)

    def test_malformed_replies_are_protocol_errors(self):
        bad = [
            [b"", b"\xc1"],  # not msgpack
            [msgpack.packb([1, 3, 10, "t"]), b"x"],  # no empty frame
            self.frames(2, 3, 14, "inst"),  # another version
            self.frames(1, 0, 14, "inst"),  # not the broker's role
            self.frames(1, 3, 99),  # unknown command
            self.frames(1, 3, 10, "t"),  # RESULT without its payload
            self.frames(1, 3, 11, "t", "kind"),  # FAILED without its message
            self.frames(1, 3, 12, "t", -1, 6, 2, 1000, "queue_full"),  # negative depth
            self.frames(1, 3, 14, 7),  # instance not a str
        ]
        for frames in bad:
            with self.subTest(frames=frames), self.assertRaises(protocol.ProtocolError):
                protocol.decode(frames)


class InputCheckTest(unittest.TestCase):
    """Arguments that cannot be sent raise before anything is sent."""

    def setUp(self):
        self.client = Client(f"127.0.0.1:{free_port()}", insecure=True)
        self.addCleanup(self.client.close)

    def test_bad_arguments_raise(self):
        c = self.client
        cases = [
            (ValueError, lambda: c.submit("", b"")),
            (ValueError, lambda: c.submit("x" * 129, b"")),
            (ValueError, lambda: c.submit("bad\nname", b"")),
            (ValueError, lambda: c.submit("exec", b"")),
            (TypeError, lambda: c.submit("echo", "text")),
            (ValueError, lambda: c.submit("echo", b"", priority="urgent")),
            (ValueError, lambda: c.submit("echo", b"", timeout=0)),
            (ValueError, lambda: c.submit("echo", b"", timeout=4294968)),
            (ValueError, lambda: c.submit("echo", b"", max_attempts=0)),
            (ValueError, lambda: c.submit("echo", b"", max_attempts=1001)),
            (ValueError, lambda: c.exec([], b"")),
            (ValueError, lambda: c.exec(["tr"], b"")),
            (ValueError, lambda: c.exec(["/usr/bin/../bin/tr"], b"")),
            (TypeError, lambda: c.exec("/usr/bin/tr", b"")),
        ]
        for error, call in cases:
            with self.subTest(call=call), self.assertRaises(error):
                call()
        c.submit("é" * 64, b"")  # 128 bytes of UTF-8 is the longest name

    def test_options_and_keyfiles(self):
        with mock.patch.dict(os.environ, {"ARGON_KEY": ""}), self.assertRaisesRegex(ConfigError, "keyfile"):
            Client("127.0.0.1:5555")
        with self.assertRaisesRegex(ConfigError, "not both"):
            Client("127.0.0.1:5555", keyfile="k", insecure=True)
        with self.assertRaisesRegex(ConfigError, "host:port"):
            Client("localhost", insecure=True)
        with self.assertRaisesRegex(ConfigError, "cannot read keyfile"):
            Client("127.0.0.1:5555", keyfile="/nonexistent/argon.key")

    def test_payload_over_the_clients_limit_fails_as_payload_too_large(self):
        with Client(f"127.0.0.1:{free_port()}", insecure=True, max_payload=10) as c:
            with self.assertRaises(TaskFailed) as e:
                c.run("echo", b"x" * 11)
            self.assertEqual(e.exception.kind, "payload_too_large")


class ScriptedBroker:
    """A ROUTER on a free port that the test drives by hand, to see exactly what the client sends."""

    def __init__(self):
        self.ctx = zmq.Context()
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.bind("tcp://127.0.0.1:*")
        self.endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.peer = b""  # the client's routing id, from its first message
        self.instance = None  # what a PONG names; None: PINGs go unanswered
        self.max_payload = 0  # what a PONG says

    def close(self):
        self.router.close()
        self.ctx.term()

    def recv(self, timeout=5.0):
        """The next message as (header list, payload or None); fails the test on time-out."""
        if not self.router.poll(int(timeout * 1000)):
            raise AssertionError(f"nothing from the client within {timeout} s")
        frames = self.router.recv_multipart()
        self.peer = frames[0]
        assert frames[1] == b"", "a DEALER message starts with an empty frame"
        return msgpack.unpackb(frames[2]), (frames[3] if len(frames) > 3 else None)

    def expect(self, command, timeout=5.0):
        """The next message other than PING (answered once pong() has named an instance); it must be `command`."""
        end = time.monotonic() + timeout
        while True:
            header, payload = self.recv(max(end - time.monotonic(), 0.0))
            if header[2] != protocol.Command.PING:
                assert header[2] == command, f"expected command {command}, got {header}"
                return header, payload
            if self.instance is not None:
                self.send(protocol.Command.PONG, self.instance, self.max_payload)

    def pong(self, instance, max_payload):
        """Sends a PONG naming instance, and answers every later PING the same way."""
        self.instance, self.max_payload = instance, max_payload
        self.send(protocol.Command.PONG, instance, max_payload)

    def send(self, command, *fields, payload=None):
        frames = [self.peer, b"", msgpack.packb([1, 3, int(command), *fields])]
        self.router.send_multipart(frames + ([payload] if payload is not None else []))


class ScriptedBrokerTest(unittest.TestCase):
    """What the client sends and does, message by message, against a broker the test plays."""

    def setUp(self):
        self.broker = ScriptedBroker()
        self.addCleanup(self.broker.close)
        self.client = Client(self.broker.endpoint, insecure=True, heartbeat=0.2)
        self.addCleanup(self.client.close)

    def test_submit_progress_result_duplicate_and_restart(self):
        b, C = self.broker, protocol.Command
        header, _ = b.recv()
        self.assertEqual(header, [1, 0, C.PING])  # the socket's first message
        self.assertTrue(b.peer.startswith(b"c-") and len(b.peer) == 14)
        b.pong("instance-1", 1000)
        progress = []
        f = self.client.submit("resize", b"in", priority="high", timeout=30, max_attempts=5,
                               on_progress=lambda pct, msg: progress.append((pct, msg)))
        header, payload = b.expect(C.SUBMIT)
        self.assertEqual(header[3:], [f.task_id, "resize", 0, header[6], 5])
        self.assertTrue(29000 <= header[6] <= 30000, header)  # the timeout left, in ms
        self.assertEqual(payload, b"in")
        b.send(C.PROGRESS, f.task_id, 50, "half way")
        b.send(C.RESULT, f.task_id, payload=b"out")
        b.send(C.RESULT, f.task_id, payload=b"a duplicate")  # dropped
        b.send(C.ERROR, "protocol_error", "only logged")
        b.send(C.FAILED, f.task_id, "task_error", "a late duplicate")  # dropped
        self.assertEqual(f.result(timeout=5), b"out")
        self.assertEqual(progress, [(50, "half way")])
        # A first contact that answers the socket's only PING vouches for what
        # followed it on the socket: the SUBMIT above is not sent twice.
        g = self.client.submit("resize", b"second")
        header, payload = b.expect(C.SUBMIT)
        self.assertEqual((header[3], payload), (g.task_id, b"second"))
        b.pong("instance-2", 1000)  # the broker restarted: it knows nothing of g
        header, payload = b.expect(C.SUBMIT)
        self.assertEqual((header[3], payload), (g.task_id, b"second"))  # sent again under its own id
        b.send(C.FAILED, g.task_id, "invalid_input", "a worker's own kind")
        with self.assertRaises(TaskFailed) as e:
            g.result(timeout=5)
        self.assertEqual((e.exception.kind, e.exception.message), ("invalid_input", "a worker's own kind"))

    def test_a_payload_over_the_limit_the_broker_said_fails_before_sending(self):
        b, C = self.broker, protocol.Command
        b.recv()
        b.pong("instance-1", 10)
        ok = self.client.submit("echo", b"x" * 10)
        self.assertEqual(b.expect(C.SUBMIT)[1], b"x" * 10)
        with self.assertRaises(TaskFailed) as e:
            self.client.run("echo", b"x" * 11)
        self.assertEqual(e.exception.kind, "payload_too_large")
        b.send(C.RESULT, ok.task_id, payload=b"done")
        self.assertEqual(ok.result(timeout=5), b"done")

    def test_busy_keeps_the_task_and_an_outcome_sends_it_again(self):
        b, C = self.broker, protocol.Command
        b.recv()
        b.pong("instance-1", 0)
        first = self.client.submit("echo", b"1")
        refused = self.client.submit("echo", b"2")
        self.assertEqual(b.expect(C.SUBMIT)[0][3], first.task_id)
        self.assertEqual(b.expect(C.SUBMIT)[0][3], refused.task_id)
        b.send(C.BUSY, refused.task_id, 1, 1, 1, 60000, "queue_full")  # retry in a minute, unless room comes
        time.sleep(0.3)  # the client reads the BUSY
        later = self.client.submit("echo", b"3")  # waits behind the refused task
        with self.assertRaises(AssertionError):
            b.expect(C.SUBMIT, timeout=0.5)  # nothing goes while the broker is full
        b.send(C.RESULT, first.task_id, payload=b"1")  # room: the refused task goes at once
        self.assertEqual(b.expect(C.SUBMIT, timeout=2)[0][3], refused.task_id)
        b.send(C.RESULT, refused.task_id, payload=b"2")
        self.assertEqual(b.expect(C.SUBMIT, timeout=2)[0][3], later.task_id)
        b.send(C.RESULT, later.task_id, payload=b"3")
        self.assertEqual([f.result(timeout=5) for f in (first, refused, later)], [b"1", b"2", b"3"])


@unittest.skipUnless(BROKER and WORKER and CLI, "argon-broker, argon-worker and argon are not built")
class EndToEndTest(unittest.TestCase):
    """The real broker and workers over loopback."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="argon-py-")
        self.addCleanup(self.dir.cleanup)
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.key_flags = ["--insecure"]
        self.broker = None
        self.broker_starts = 0
        self.broker_args = []

    # --- the system under test ---

    def spawn(self, argv, log_name):
        log = open(os.path.join(self.dir.name, log_name), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.addCleanup(self.kill, proc)
        return proc

    @staticmethod
    def kill(proc):
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def use_keyfile(self, path):
        self.keyfile = path
        self.key_flags = ["--key", path]

    def start_broker(self, *args):
        self.broker_args = list(args) or self.broker_args
        self.broker_starts += 1
        argv = [BROKER, "--bind", self.endpoint, "--verbose", "7", *self.key_flags, *self.broker_args]
        self.broker = self.spawn(argv, f"broker{self.broker_starts}.log")

    def restart_broker(self):
        self.kill(self.broker)
        self.start_broker()

    def start_worker(self, capacity, *args):
        argv = [WORKER, "--broker", self.endpoint, "--capacity", str(capacity), *self.key_flags, *args]
        return self.spawn(argv, f"worker-{time.monotonic_ns()}.log")

    def client(self, **options):
        keys = {"insecure": True} if self.key_flags == ["--insecure"] else {"keyfile": self.keyfile}
        c = Client(self.endpoint, **keys, **options)
        self.addCleanup(c.close)
        return c

    def wait_for_slots(self, c, n, limit=15.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            try:
                if c.status()["slots"] >= n:
                    return
            except TaskFailed:
                pass
            time.sleep(0.1)
        self.fail(f"the broker did not report {n} slots within {limit} s; {self.broker_log()}")

    def broker_log(self):
        with open(os.path.join(self.dir.name, f"broker{self.broker_starts}.log"), "rb") as f:
            return "broker log ends: " + f.read()[-3000:].decode(errors="replace")

    def keygen(self, name="argon.key"):
        path = os.path.join(self.dir.name, name)
        subprocess.run([CLI, "keygen", path], check=True, timeout=30, capture_output=True)
        return path

    def write_keyfile(self, contents, name):
        path = os.path.join(self.dir.name, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(contents)
        return path

    def assert_echo(self, c):
        self.assertEqual(c.run("echo", b"hello"), b"hello")
        self.assertEqual(c.run("echo", b""), b"")
        blob = bytes(range(256)) * 4096  # 1 MiB, every byte value
        self.assertEqual(c.run("echo", blob), blob)

    # --- the tests ---

    def test_echo_round_trip_plaintext(self):
        self.start_broker()
        self.start_worker(2)
        self.assert_echo(self.client())

    def test_the_example_submits_a_batch(self):
        self.start_broker()
        self.start_worker(2)
        example = [sys.executable, os.path.join(ROOT, "python", "examples", "submit.py"), "--broker", self.endpoint]
        run = subprocess.run(example + ["--insecure", "echo", "hello", "world"], capture_output=True, timeout=60)
        self.assertEqual((run.returncode, run.stdout), (0, b"hello\nworld\n"), run.stderr)
        run = subprocess.run(example + ["--insecure", "fail", "no disk"], capture_output=True, timeout=60)
        self.assertEqual(run.returncode, 1)
        self.assertIn(b"task_error: no disk", run.stderr)

    def test_echo_round_trip_curve_with_a_keygen_keyfile(self):
        self.use_keyfile(self.keygen())
        self.start_broker()
        self.start_worker(2)
        self.assert_echo(self.client())

    def test_echo_round_trip_curve_with_a_passphrase_keyfile(self):
        self.use_keyfile(self.write_keyfile(b"correct horse battery staple\n", "pass.key"))
        self.start_broker()
        self.start_worker(2)
        self.assert_echo(self.client())

    def test_echo_round_trip_curve_with_a_bare_hex_keyfile(self):
        # What argon keygen wrote before master-key keyfiles: a passphrase, then and now.
        self.use_keyfile(self.write_keyfile(os.urandom(32).hex().encode() + b"\n", "hex.key"))
        self.start_broker()
        self.start_worker(2)
        self.assert_echo(self.client())

    def test_echo_round_trip_curve_with_a_master_key_keyfile(self):
        with open(self.keygen("probe.key"), "rb") as f:
            if not f.read().startswith(keys_module.MASTER_KEY_PREFIX):
                self.skipTest("argon keygen in this tree writes bare hex: its programs predate master-key keyfiles")
        self.use_keyfile(self.write_keyfile(b"argon-master-key:" + os.urandom(32).hex().upper().encode() + b"\n",
                                            "master.key"))
        self.start_broker()
        self.start_worker(2)
        self.assert_echo(self.client())

    def test_a_curve_broker_with_another_key_is_unreachable_within_connect_timeout(self):
        self.use_keyfile(self.keygen("broker.key"))
        self.start_broker()
        self.use_keyfile(self.write_keyfile(b"some other secret\n", "other.key"))
        c = self.client(connect_timeout=1.0)
        started = time.monotonic()
        with self.assertRaises(TaskFailed) as e:
            c.run("echo", b"x")
        self.assertEqual(e.exception.kind, "unreachable")
        self.assertLess(time.monotonic() - started, 3.0)

    def test_no_broker_is_unreachable_within_connect_timeout(self):
        c = self.client(connect_timeout=1.0)
        started = time.monotonic()
        futures = [c.submit("echo", b"x") for _ in range(5)]
        for f in futures:
            with self.assertRaises(TaskFailed) as e:
                f.result(timeout=10)
            self.assertEqual(e.exception.kind, "unreachable")
            self.assertIn("did not answer within 1 s", e.exception.message)
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 3.0)
        with self.assertRaises(TaskFailed) as e:
            c.status()
        self.assertEqual(e.exception.kind, "unreachable")

    def test_a_broker_that_starts_after_the_submission_runs_the_task(self):
        c = self.client()
        f = c.submit("echo", b"early")
        time.sleep(0.5)
        self.start_broker()
        self.start_worker(1)
        self.assertEqual(f.result(timeout=10), b"early")

    def test_a_handler_failure_is_task_error_with_its_message(self):
        self.start_broker()
        self.start_worker(1)
        c = self.client()
        with self.assertRaises(TaskFailed) as e:
            c.run("fail", b"no disk")
        self.assertEqual((e.exception.kind, e.exception.message), ("task_error", "no disk"))
        self.assertTrue(e.exception.task_id)

    def test_status_with_and_without_workers(self):
        self.start_broker()
        self.start_worker(3)
        c = self.client()
        self.wait_for_slots(c, 3)
        c.run("echo", b"x")
        s = c.status()
        self.assertEqual((s["workers"], s["slots"], s["busy_slots"]), (1, 3, 0))
        self.assertGreaterEqual(s["completed"], 1)
        self.assertNotIn("worker_list", s)
        listed = c.status(workers=True)["worker_list"]
        self.assertEqual(len(listed), 1)
        self.assertEqual((listed[0]["capacity"], listed[0]["slots"], listed[0]["leaving"]), (3, 3, False))
        self.assertGreaterEqual(listed[0]["done"], 1)

    def test_a_window_past_the_queue_limit_completes_every_task_as_outcomes_make_room(self):
        self.start_broker("--queue-limit", "4")
        self.start_worker(2)
        # Busy retries 30 s apart: only room signalling (each outcome sends the
        # first task waiting for room) can finish 400 tasks within the 20 s below.
        c = self.client(retry_policy=RetryPolicy(base=30.0))
        self.wait_for_slots(c, 2)
        n = 400
        futures = [c.submit("sleep", b"%d" % (i % 5)) for i in range(n)]  # 0-4 ms each, 400 at once
        for i, f in enumerate(futures):
            self.assertEqual(f.result(timeout=20), b"%d" % (i % 5), f"task {i}")
        s = c.status()
        # The window did pass 4 queued + 2 running. How many BUSY replies it took
        # depends on how soon the first came: after it, new tasks wait behind.
        self.assertGreater(s["busy_replies"], 0)
        self.assertEqual(s["completed"], n)

    def test_retry_false_hands_busy_to_the_caller(self):
        self.start_broker("--queue-limit", "1")
        self.start_worker(1)
        c = self.client()
        self.wait_for_slots(c, 1)
        running, queued = c.submit("sleep", b"1000"), c.submit("sleep", b"1000")
        with self.assertRaises(TaskFailed) as e:
            c.run("echo", b"x", retry=False)
        self.assertEqual(e.exception.kind, "busy")
        self.assertEqual((e.exception.busy.reason, e.exception.busy.depth, e.exception.busy.limit),
                         ("queue_full", 1, 1))
        self.assertEqual((running.result(timeout=30), queued.result(timeout=30)), (b"1000", b"1000"))

    def test_the_broker_killed_and_restarted_under_load_every_task_ends_once(self):
        self.start_broker(*FAST_BEATS)
        self.start_worker(4, *FAST_BEATS)
        self.start_worker(4, *FAST_BEATS)
        c = self.client(heartbeat=0.2)
        self.wait_for_slots(c, 8)
        n = 100
        outcomes = [[] for _ in range(n)]
        lock, done = threading.Lock(), threading.Semaphore(0)

        def record(i, f):
            with lock:
                outcomes[i].append(f.exception() or f.result())
            done.release()

        for i in range(n):
            c.submit("sleep", b"%d" % (100 + i)).add_done_callback(lambda f, i=i: record(i, f))
        for _ in range(8):  # the system works; most tasks are still queued or running
            self.assertTrue(done.acquire(timeout=20))
        self.restart_broker()
        for _ in range(n - 8):
            self.assertTrue(done.acquire(timeout=60), self.broker_log())
        time.sleep(1)  # time for a duplicate outcome to show
        for i in range(n):
            self.assertEqual(outcomes[i], [b"%d" % (100 + i)], f"task {i}")

    def test_an_idle_client_works_after_the_broker_restarted(self):
        self.start_broker(*FAST_BEATS)
        self.start_worker(2, *FAST_BEATS)
        c = self.client(heartbeat=0.2)
        self.assertEqual(c.run("echo", b"before"), b"before")
        time.sleep(1)  # idle past liveness x heartbeat: nothing sent, nothing given up
        self.restart_broker()
        self.assertEqual(c.run("echo", b"after restart", timeout=20), b"after restart")

    def test_payload_over_the_brokers_limit_fails_as_payload_too_large(self):
        self.start_broker("--max-payload", "1000")
        self.start_worker(1)
        c = self.client()
        self.assertEqual(c.run("echo", b"x" * 1000), b"x" * 1000)
        with self.assertRaises(TaskFailed) as e:
            c.run("echo", b"x" * 1001)
        self.assertEqual(e.exception.kind, "payload_too_large")
        self.assertIn("1000", e.exception.message)

    def test_timeout_and_cancel(self):
        self.start_broker()
        self.start_worker(2)
        c = self.client()
        self.wait_for_slots(c, 2)
        started = time.monotonic()
        with self.assertRaises(TaskFailed) as e:
            c.run("sleep", b"5000", timeout=0.5)
        self.assertEqual(e.exception.kind, "timeout")
        self.assertLess(time.monotonic() - started, 3.0)
        f = c.submit("sleep", b"5000")
        time.sleep(0.3)
        c.cancel(f)
        with self.assertRaises(TaskFailed) as e:
            f.result(timeout=3)
        self.assertEqual(e.exception.kind, "cancelled")

    def test_exec_runs_an_allowed_program(self):
        if not os.access("/usr/bin/tr", os.X_OK):
            self.skipTest("no /usr/bin/tr")
        self.start_broker()
        self.start_worker(1, "--allow-exec", "/usr/bin/*")
        c = self.client()
        self.assertEqual(c.exec(["/usr/bin/tr", "a-z", "A-Z"], b"hello").result(timeout=30), b"HELLO")
        # A program's stderr reaches the failure message as it is, in a msgpack str
        # that need not be UTF-8: the outcome must still arrive.
        with self.assertRaises(TaskFailed) as e:
            c.exec(["/usr/bin/env", "sh", "-c", "printf 'caf\\351' >&2; exit 3"]).result(timeout=30)
        self.assertEqual(e.exception.kind, "task_error")
        self.assertIn("caf\ufffd", e.exception.message)

    def test_close_cancels_unfinished_tasks(self):
        self.start_broker()
        self.start_worker(1)
        c = self.client()
        f = c.submit("sleep", b"5000")
        c.close()
        with self.assertRaises(TaskFailed) as e:
            f.result(timeout=1)
        self.assertEqual(e.exception.kind, "cancelled")
        with self.assertRaises(TaskFailed) as e:
            c.submit("echo", b"late").result(timeout=1)
        self.assertEqual(e.exception.kind, "cancelled")


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("ARGON_TEST_LOG", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    unittest.main(verbosity=2)
