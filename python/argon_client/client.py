"""Client: submit tasks to an Argon broker and get their outcomes, from Python.

The C++ client's promises (client/include/argon/client.hpp), in Python
terms. A Client owns one DEALER socket with a stable routing id ("c-" and
12 hex digits) and one background I/O thread that alone touches it; every
method may be called from any thread. Each task ends in exactly one
outcome: its output (bytes), or TaskFailed with a kind (task_error, busy,
unreachable, timeout, payload_too_large, protocol_error, cancelled, and the
broker's and workers' kinds of docs/protocol.md §5).

The backlog is the client's. A task refused as busy stays with the client
and goes again when an outcome makes room, or after a backoff. Until the
broker first answers, a task left unanswered for connect_timeout after its
submission fails as unreachable (the key may be wrong: a CURVE broker says
nothing to a key it refuses). When the broker restarts, or goes silent for
liveness heartbeats and then answers again, every unfinished task is
submitted again under its own id, and the broker runs none twice that it
still knows. Times are seconds (floats) throughout, sizes bytes.
"""

import concurrent.futures
import itertools
import os
import secrets
import time
from typing import Callable, Iterable, Optional, Sequence, Union

from . import protocol
from .errors import ConfigError, TaskFailed, UsageError
from .keepalive import KeepaliveSettings
from .keys import load_keys
from .link import LinkSettings
from .retry import RetryPolicy
from .session import Session, SessionOptions
from .task import PendingTask, TaskFuture

DEFAULT_BROKER = "127.0.0.1:5555"  # the broker's default bind, on this host
DEFAULT_MAX_PAYLOAD = 16 << 20  # the broker's default --max-payload, bytes

Payload = Union[bytes, bytearray, memoryview]


def normalize_endpoint(endpoint: str) -> str:
    """"host:port" becomes "tcp://host:port"; "scheme://..." stays as it is."""
    if "://" in endpoint:
        return endpoint
    if ":" not in endpoint:
        raise ConfigError(f"endpoint '{endpoint}' is not tcp://host:port or host:port")
    return "tcp://" + endpoint


class Client:
    """A connection to one Argon broker.

    broker: "host:port" or "tcp://host:port"; default $ARGON_BROKER, else 127.0.0.1:5555.
    keyfile: the broker's keyfile (docs/protocol.md §7); default $ARGON_KEY. Required
        unless insecure is true.
    insecure: plaintext, for a broker started with --insecure; excludes keyfile.
    connect_timeout: before the broker first answers, a task unanswered this long after
        its submission fails as unreachable; also how long status() waits.
    heartbeat: PING interval before the first answer, and after it while there is work.
    liveness: heartbeats of silence, while there is work, before the broker is lost.
    reconnect_timeout: the broker lost this long, unfinished tasks fail as unreachable;
        None or 0 = never.
    max_payload: larger payloads fail as payload_too_large before sending (the broker's
        own limit, from its PONG, applies too).
    retry_policy: busy handling (RetryPolicy: base, max_retries, deadline, jitter).

    Raises ConfigError for options or a keyfile it cannot use. Use it as a context
    manager, or call close(): unfinished tasks then fail as cancelled.
    """

    def __init__(self, broker: Optional[str] = None, keyfile: Optional[str] = None, insecure: bool = False, *,
                 connect_timeout: float = 5.0, heartbeat: float = 1.0, liveness: int = 3,
                 reconnect_timeout: Optional[float] = 60.0, max_payload: int = DEFAULT_MAX_PAYLOAD,
                 retry_policy: Optional[RetryPolicy] = None):
        broker = broker or os.environ.get("ARGON_BROKER") or DEFAULT_BROKER
        if insecure and keyfile:
            raise ConfigError("give a keyfile or insecure=True, not both")
        if not insecure:
            keyfile = keyfile or os.environ.get("ARGON_KEY")
            if not keyfile:
                raise ConfigError("give keyfile= (the broker's keyfile; or set ARGON_KEY) "
                                  "or insecure=True for a plaintext broker")
        if not heartbeat > 0:
            raise ConfigError("the heartbeat interval must be above 0 s")
        if int(liveness) < 1:
            raise ConfigError("liveness must be at least 1 heartbeat")
        if not connect_timeout > 0:
            raise ConfigError("the connect timeout must be above 0 s")
        if reconnect_timeout is not None and reconnect_timeout < 0:
            raise ConfigError("the reconnect timeout cannot be negative")
        self.endpoint = normalize_endpoint(broker)  # tcp://host:port
        self.routing_id = "c-" + secrets.token_hex(6)  # the same on every socket, so outcomes find a new one
        self.connect_timeout = float(connect_timeout)  # seconds
        self._id_prefix = secrets.token_hex(4)  # task ids are PREFIX-N
        self._counter = itertools.count(1)  # N; next() is atomic under the GIL
        keepalive = KeepaliveSettings(heartbeat=float(heartbeat), liveness=int(liveness),
                                      connect_timeout=float(connect_timeout), reconnect_timeout=reconnect_timeout)
        link = LinkSettings(endpoint=self.endpoint, routing_id=self.routing_id.encode("ascii"),
                            keys=load_keys(keyfile) if keyfile else None, keepalive=keepalive)
        self._session = Session(SessionOptions(link=link, retry=retry_policy or RetryPolicy(),
                                               max_payload=int(max_payload), clock=time.monotonic))

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        session = getattr(self, "_session", None)
        if session is not None:
            try:
                session.post(session._shut_down)  # without waiting: a finaliser must not block
            except Exception:
                pass

    def close(self) -> None:
        """Fails unfinished tasks as cancelled and ends the I/O thread (waiting for it
        unless called from it). Calling it again does nothing."""
        self._session.close()

    def submit(self, task: str, payload: Payload = b"", priority: Union[str, int] = "normal",
               timeout: Optional[float] = None, max_attempts: int = 3, retry: bool = True,
               on_progress: Optional[Callable[[int, str], None]] = None) -> TaskFuture:
        """Submits a task and returns at once with its future.

        task: the task name, 1-128 bytes of UTF-8 without control characters.
        payload: the input, bytes-like; within max_payload and the broker's limit, or the
            task fails as payload_too_large.
        priority: "high", "normal" or "low" (or 0, 1, 2).
        timeout: seconds from now until the task fails as timeout, resubmits included;
            None = never. At most 4294967.295.
        max_attempts: starts the broker may make of it (1-1000) when workers are lost.
        retry: back off and resend when the broker is busy; False fails the task as busy
            at the first BUSY (TaskFailed.busy says what the broker said).
        on_progress: called as on_progress(percent, message) on the I/O thread for each
            progress report of its worker; advisory, never after the outcome.

        future.result() is the output (bytes) or raises TaskFailed. Raises TypeError or
        ValueError for an argument that cannot be sent.
        """
        name = _check_task_name(task)
        if name == protocol.EXEC_TASK:
            raise ValueError("task 'exec' runs a program: use Client.exec(argv, stdin)")
        return self._start(name, payload, priority, timeout, max_attempts, retry, on_progress, None)

    def exec(self, argv: Sequence[str], stdin: Payload = b"", priority: Union[str, int] = "normal",
             timeout: Optional[float] = None, max_attempts: int = 3, retry: bool = True,
             on_progress: Optional[Callable[[int, str], None]] = None) -> TaskFuture:
        """Runs a program on a worker that allows it (argon-worker --allow-exec PATTERN):
        the reserved task "exec". argv[0] is the program's absolute path without ".",
        ".." or "//"; at most 1,024 items. stdin is its input, its stdout the result.
        The other arguments are submit()'s. Raises TypeError or ValueError for an argv
        that cannot be sent."""
        argv = _check_argv(argv)
        return self._start(protocol.EXEC_TASK, stdin, priority, timeout, max_attempts, retry, on_progress, argv)

    def run(self, task: str, payload: Payload = b"", **options) -> bytes:
        """Submits a task and waits for its output; raises TaskFailed if it fails.
        Takes submit()'s keyword arguments. Raises UsageError on the I/O thread (from a
        done-callback), where it would wait for itself."""
        if self._session.on_io_thread():
            raise UsageError("Client.run would block the client's own I/O thread")
        return self.submit(task, payload, **options).result()

    def cancel(self, task: Union[TaskFuture, str]) -> None:
        """Withdraws an unfinished task (its future or id): the broker is told to drop it
        (and its worker to stop), and the task fails as cancelled. A task that has its
        outcome already keeps it."""
        task_id = task.task_id if isinstance(task, TaskFuture) else str(task)
        self._session.post(lambda: self._session.cancel_task(task_id))

    def status(self, workers: bool = False) -> dict:
        """The broker's status snapshot: a dict of the STATUS_REPLY keys (workers, slots,
        busy_slots, queue_depth, queue_high, queue_normal, queue_low, queue_limit,
        queue_bytes, queue_bytes_limit, submitted, completed, failed, busy_replies,
        protocol_errors, uptime_ms, and any the broker adds). With workers=True it also
        has "worker_list", one dict per worker process (id, address, capacity, slots,
        busy, done, last_heartbeat_ms, leaving). Raises TaskFailed("unreachable") when
        the broker does not answer within connect_timeout, UsageError on the I/O thread."""
        if self._session.on_io_thread():
            raise UsageError("Client.status would block the client's own I/O thread")
        waiter = concurrent.futures.Future()
        session = self._session
        session.post(lambda: session.ask_status(waiter, bool(workers)))
        try:
            return waiter.result(timeout=self.connect_timeout)
        except concurrent.futures.TimeoutError:
            session.post(lambda: session.forget_status(waiter))
            raise TaskFailed("unreachable", f"the broker at {self.endpoint} did not answer within "
                                            f"{self.connect_timeout:g} s; it may not be running, or the key "
                                            "may be wrong") from None

    def _start(self, name, payload, priority, timeout, max_attempts, retry, on_progress, argv) -> TaskFuture:
        payload = _check_payload(payload)
        lane = _check_priority(priority)
        timeout = _check_timeout(timeout)
        attempts = _check_max_attempts(max_attempts)
        if on_progress is not None and not callable(on_progress):
            raise TypeError("on_progress must be callable as on_progress(percent, message)")
        seq = next(self._counter)
        task_id = f"{self._id_prefix}-{seq}"
        future = TaskFuture(task_id)
        t = PendingTask(id=task_id, seq=seq, name=name, payload=payload, priority=lane, timeout=timeout,
                        max_attempts=attempts, retry=bool(retry), argv=argv, on_progress=on_progress,
                        future=future, submitted_at=self._session.clock())
        session = self._session
        session.post(lambda: session.start_task(t))
        return future


def _check_task_name(task) -> str:
    if not isinstance(task, str):
        raise TypeError(f"the task name must be a str, got {type(task).__name__}")
    size = len(task.encode("utf-8"))
    if size == 0:
        raise ValueError("a task needs a name")
    if size > protocol.MAX_ID_BYTES:
        raise ValueError(f"task names are at most {protocol.MAX_ID_BYTES} bytes; this one has {size}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in task):
        raise ValueError("task names cannot hold control characters")
    return task


def _check_payload(payload) -> bytes:
    if isinstance(payload, str):
        raise TypeError("the payload must be bytes; encode text first, e.g. text.encode()")
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise TypeError(f"the payload must be bytes-like, got {type(payload).__name__}")
    return bytes(payload)  # kept for resends, so the caller may reuse its buffer


def _check_priority(priority) -> int:
    if isinstance(priority, str) and priority in protocol.PRIORITIES:
        return protocol.PRIORITIES[priority]
    if isinstance(priority, int) and not isinstance(priority, bool) and priority in protocol.PRIORITIES.values():
        return priority
    raise ValueError(f"priority is 'high', 'normal' or 'low', got {priority!r}")


def _check_timeout(timeout) -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"the timeout is a number of seconds or None, got {type(timeout).__name__}")
    if not 0 < timeout * 1000 <= protocol.MAX_TIMEOUT_MS:
        raise ValueError(f"the timeout is above 0 and at most {protocol.MAX_TIMEOUT_MS / 1000:g} s, got {timeout!r}")
    return float(timeout)


def _check_max_attempts(max_attempts) -> int:
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
        raise TypeError(f"max_attempts must be an int, got {type(max_attempts).__name__}")
    if not 1 <= max_attempts <= protocol.MAX_ATTEMPTS:
        raise ValueError(f"max_attempts is 1 to {protocol.MAX_ATTEMPTS}, got {max_attempts}")
    return max_attempts


def _is_clean_absolute_path(path: str) -> bool:
    if len(path) < 2 or not path.startswith("/") or path.endswith("/") or "\0" in path:
        return False
    return all(part not in ("", ".", "..") for part in path[1:].split("/"))


def _check_argv(argv: Iterable[str]) -> list:
    if isinstance(argv, (str, bytes)):
        raise TypeError("argv is a sequence of str, e.g. ['/usr/bin/tr', 'a-z', 'A-Z']")
    argv = list(argv)
    if not all(isinstance(a, str) for a in argv):
        raise TypeError("every item of argv must be a str")
    if not argv:
        raise ValueError("task 'exec' needs a program: argv is empty")
    if not _is_clean_absolute_path(argv[0]):
        raise ValueError("task 'exec' needs the program's absolute path without '.', '..' or '//', "
                         f"e.g. /usr/bin/tr; got {argv[0][:256]!r}")
    if len(argv) > protocol.MAX_LIST_ITEMS:
        raise ValueError(f"task 'exec' takes at most {protocol.MAX_LIST_ITEMS} arguments, got {len(argv)}")
    if protocol.submit_header_size("x" * 40, protocol.EXEC_TASK, argv) > protocol.MAX_HEADER_BYTES:
        raise ValueError("exec arguments are too long: the header would be over 64 KiB")
    return argv
