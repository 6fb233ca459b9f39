"""The client's session: every unfinished task, its timers, and what the broker says about it.

Everything here runs on the one I/O thread (io_loop.py) that owns the
broker link, so the task table needs no lock; other threads reach it
through post(). Futures are resolved there, so done-callbacks run there.

Every timeout counts from when the caller submitted: the caller's own
timeout (a backstop 0.25 s after the broker's, which withdraws the task),
connect_timeout before the first contact with a broker (CURVE refusals are
silent, so an unanswered task fails as unreachable rather than hang), and
reconnect_timeout while the broker is lost (from the loss, or from the
submission if later). Whatever was sent before contact with a broker
instance may be lost: at the first contact, when the broker restarts, and
when it comes back after being lost, every unfinished task that may not
have reached that instance is sent again under its own id (the broker
ignores ids it still knows), and while the broker is lost new tasks wait
instead of being sent. Outcomes for tasks already finished are dropped, so
each task has exactly one outcome.

A task refused as busy stays here and goes again as soon as the broker has
room: each outcome means one task fewer there, so it sends the first task
waiting for room (highest lane, then oldest) at once. While any task waits
for room, a new task waits behind it rather than being sent only to be
refused. Its retry timer (the broker's retry_after_ms, or the 1 + ln n
backoff) sends it only while no outcome arrives. A refusal of a send made
for room does not count towards the retry limit: each needs an outcome, so
it only happens while the broker makes progress.
"""

import collections
import concurrent.futures
import heapq
import logging
import random
from dataclasses import dataclass
from typing import Callable, Deque, Dict, List, Optional, Set

import zmq

from . import protocol
from .errors import BusyInfo, TaskFailed
from .io_loop import IoLoop
from .keepalive import LinkState
from .link import BrokerLink, LinkEvents, LinkSettings
from .retry import RetryPolicy, busy_backoff
from .task import PendingState, PendingTask, resolve
from .timers import TimerQueue

log = logging.getLogger("argon_client")

TIMEOUT_GRACE = 0.25  # how much later than the broker the client's own timeout fires, seconds


@dataclass
class SessionOptions:
    """What the session needs from the client's options (seconds, bytes)."""

    link: LinkSettings  # endpoint, routing id, keys, keepalive
    retry: RetryPolicy  # busy handling
    max_payload: int  # larger payloads fail as payload_too_large before sending
    clock: Callable[[], float]  # monotonic seconds


class Session:
    """Every unfinished task and status request, the link to the broker, and the I/O thread that owns them."""

    def __init__(self, opts: SessionOptions):
        self._opts = opts  # as given
        self.endpoint = opts.link.endpoint  # for messages
        self.clock = opts.clock  # time for deadlines, readable from any thread
        self._timers = TimerQueue(opts.clock)  # every timer of the I/O thread
        self._loop = IoLoop(self._timers)  # the I/O thread
        self._ctx = zmq.Context()  # owns the link's sockets; terminated on the I/O thread
        self._tasks: Dict[str, PendingTask] = {}  # unfinished tasks by id
        self._room_heap: List[tuple] = []  # (priority, seq, id) of tasks waiting for room; stale entries skipped
        self._waiting_for_room: Set[str] = set()  # ids of the tasks in BACKING_OFF
        self._last_retry_after_ms = 0  # the latest BUSY's retry_after_ms: the hint for a task that waits behind it
        self._status_waiters: Deque[concurrent.futures.Future] = collections.deque()  # in request order
        self._status_workers = False  # a waiting status request wants the worker list
        self._status_sent_on = 0  # the socket generation the last STATUS went out on
        self._closing = False  # shutting down: new tasks are cancelled
        self._rng = random.Random()  # jitter
        events = LinkEvents(on_message=self._on_message, on_contact=self._on_contact, on_lost=self._on_lost)
        try:
            self._link = BrokerLink(self._ctx, opts.link, events, self._timers)
        except Exception:
            self._ctx.term()
            self._loop.close_unstarted()
            raise
        self._loop.start(lambda: self._link.socket, self._link.read_available, self._shut_down, self._close_link)

    # --- any thread ---

    def on_io_thread(self) -> bool:
        return self._loop.on_io_thread()

    def post(self, fn: Callable[[], None]):
        """Runs fn on the I/O thread (at once when already on it)."""
        self._loop.post(fn)

    def close(self):
        """Cancels unfinished work and ends the I/O thread; waits for it unless called on it."""
        if not self._loop.is_alive():
            return
        self.post(self._shut_down)
        self._loop.join()

    # --- shutting down (I/O thread) ---

    def _shut_down(self):
        self._closing = True
        why = "the client was closed before the task finished"
        for task_id in list(self._tasks):
            self._finish(task_id, error=TaskFailed("cancelled", why, task_id))
        waiters, self._status_waiters = self._status_waiters, collections.deque()
        for w in waiters:
            resolve(w, error=TaskFailed("cancelled", "the client was closed"))
        self._loop.stop()

    def _close_link(self):
        self._link.stop()
        self._ctx.term()

    # --- tasks (I/O thread) ---

    def start_task(self, t: PendingTask):
        """Takes a new task: checks its size, arms its deadlines, sends it or lets it wait for room."""
        if self._closing:
            return resolve(t.future, error=TaskFailed("cancelled", "the client is closed", t.id))
        over = self._over_limit(t)
        if over:
            return resolve(t.future, error=TaskFailed("payload_too_large", over, t.id))
        self._arm_timeout(t)
        self._arm_give_up(t)
        self._tasks[t.id] = t
        self._update_idle()
        # While tasks wait for room the broker is full for this client: a new task
        # would only be refused, so it waits behind them (a caller who asked for no
        # retry still hears the broker's BUSY).
        if self._waiting_for_room and t.retry:
            delay = busy_backoff(self._opts.retry, 1, self._last_retry_after_ms, self._rng.random())
            return self._wait_for_room(t, delay)
        self._send_submit(t)

    def cancel_task(self, task_id: str):
        """The caller withdraws a task: the broker is told, the task fails as cancelled now."""
        if task_id not in self._tasks:
            return
        if not self._link.lost():
            self._link.send(protocol.cancel(task_id))
        self._finish(task_id, error=TaskFailed("cancelled", "cancelled by the caller", task_id))

    # The caller's timeout is enforced by the broker, which also stops the task on
    # its worker; this timer is the backstop for a broker that does not answer, so
    # it fires a little later: withdraw the task and tell the caller.
    def _arm_timeout(self, t: PendingTask):
        if not t.timeout:
            return

        def expire():
            self._link.send(protocol.cancel(t.id))
            self._finish(t.id, error=TaskFailed("timeout", f"no result within {t.timeout:g} s", t.id))

        t.timeout_timer = self._timers.timer(expire)
        t.timeout_timer.start(t.submitted_at + t.timeout + TIMEOUT_GRACE - self.clock())

    # Out of contact with the broker, a task fails as unreachable at the deadline
    # the keepalive gives for it; in contact, it has none (the broker owes an outcome).
    def _arm_give_up(self, t: PendingTask):
        at = self._link.health.give_up_at(t.submitted_at)
        if at is None:
            if t.give_up_timer:
                t.give_up_timer.stop()
            return
        if t.give_up_timer is None:
            def due():
                task = self._tasks.get(t.id)
                deadline = None if task is None else self._link.health.give_up_at(task.submitted_at)
                if deadline is not None:
                    self._give_up_due(deadline)
            t.give_up_timer = self._timers.timer(due)
        t.give_up_timer.start(at - self.clock())

    # Sends (or resends) a task under its own id. While the broker is lost the
    # task is held instead: _resend_unfinished sends it when the broker answers.
    def _send_submit(self, t: PendingTask):
        if t.state is PendingState.BACKING_OFF:
            self._waiting_for_room.discard(t.id)
        if t.retry_timer:
            t.retry_timer.stop()
        t.state = PendingState.AWAITING_OUTCOME
        t.sent_on = 0
        if self._link.lost():
            return
        frames = protocol.submit(t.id, t.name, t.priority, self._remaining_timeout_ms(t), t.max_attempts,
                                 t.payload, t.argv)
        t.sent_on = self._link.generation
        if not self._link.send(frames):
            why = f"the outgoing queue to the broker at {self.endpoint} is full: the broker is not reading"
            self._finish(t.id, error=TaskFailed("unreachable", why, t.id))

    # The broker counts a task's timeout from when it accepts the task; the caller
    # counts from submit(), so a resend carries only what is left (at least 1 ms).
    def _remaining_timeout_ms(self, t: PendingTask) -> int:
        if not t.timeout:
            return 0
        left = int((t.timeout - (self.clock() - t.submitted_at)) * 1000)
        return min(max(left, 1), protocol.MAX_TIMEOUT_MS)

    # Every task whose deadline out of contact is at or before `deadline` fails
    # as unreachable, at once: tasks submitted together end together, with one log line.
    def _give_up_due(self, deadline: float):
        if self._closing:
            return
        health = self._link.health
        due = [i for i, t in self._tasks.items()
               if (at := health.give_up_at(t.submitted_at)) is not None and at <= deadline]
        if not due:
            return
        why = self._unreachable_reason()
        level = logging.INFO if health.state is LinkState.CONNECTING else logging.WARNING
        log.log(level, "%s: %d unfinished task%s fail as unreachable", why, len(due), "" if len(due) == 1 else "s")
        for task_id in due:
            self._finish(task_id, error=TaskFailed("unreachable", why, task_id))

    def _unreachable_reason(self) -> str:
        health = self._link.health
        if health.state is LinkState.CONNECTING:
            return (f"the broker at {self.endpoint} did not answer within {health.settings.connect_timeout:g} s; "
                    "it may not be running, or the key may be wrong")
        return f"the broker at {self.endpoint} has not answered for {round(self.clock() - health.last_heard)} s"

    # Contact with a broker instance: no task has a deadline out of contact any
    # more, and each that may not have reached this instance goes to it again.
    def _on_contact(self, resend_older_than: float):
        for t in self._tasks.values():
            if t.give_up_timer:
                t.give_up_timer.stop()
        self._fail_over_limit()
        self._resend_unfinished(resend_older_than)

    # The broker went silent: from now on every task has a deadline again.
    def _on_lost(self):
        for t in self._tasks.values():
            self._arm_give_up(t)

    # Why a task's payload cannot be sent; "" when it can. A payload far over the
    # broker's limit would not even be refused: ZeroMQ drops it with the connection.
    def _over_limit(self, t: PendingTask) -> str:
        size, broker = len(t.payload), self._link.broker_max_payload
        if size > self._opts.max_payload:
            return f"payload of {size} bytes is over the limit of {self._opts.max_payload} bytes"
        if broker and size > broker:
            return f"payload of {size} bytes is over the broker's limit of {broker} bytes (its --max-payload)"
        return ""

    # Tasks sent before the broker said its limit that are over it fail now:
    # the broker refused them, or never saw them.
    def _fail_over_limit(self):
        for task_id, why in [(i, self._over_limit(t)) for i, t in self._tasks.items()]:
            if why:
                self._finish(task_id, error=TaskFailed("payload_too_large", why, task_id))

    # First contact, or the broker restarted or came back: it may never have had
    # a task sent on a socket older than older_than (or held), so each such
    # unfinished one goes again, oldest first. Those backing off go when their timer fires.
    def _resend_unfinished(self, older_than: float):
        todo = sorted((t for t in self._tasks.values()
                       if t.state is PendingState.AWAITING_OUTCOME and t.sent_on < older_than), key=lambda t: t.seq)
        log.debug("resubmitting %d unfinished tasks", len(todo))
        for task_id in [t.id for t in todo]:
            t = self._tasks.get(task_id)  # an earlier send may have finished it
            if t is not None:
                self._send_submit(t)
        if self._status_sent_on >= older_than:
            return
        for _ in range(len(self._status_waiters)):
            self._send_status_request()

    def _on_message(self, m: protocol.Message):
        c, f = m.command, m.fields
        if c is protocol.Command.RESULT:
            self._finish(f["id"], value=m.payload)
            return self._on_room()
        if c is protocol.Command.FAILED:
            self._finish(f["id"], error=TaskFailed(f["kind"], f["message"], f["id"]))
            return self._on_room()
        if c is protocol.Command.BUSY:
            return self._on_busy(f)
        if c is protocol.Command.PROGRESS:
            return self._on_progress(f)
        if c is protocol.Command.STATUS_REPLY:
            return self._on_status_reply(f)
        if c is protocol.Command.ERROR:
            return log.warning("broker reported %s: %s", f["kind"], f["message"])
        log.warning("unexpected %s from the broker", c.name)

    # Progress is advisory: for a task already finished, or without a callback, it is dropped.
    def _on_progress(self, f: dict):
        t = self._tasks.get(f["id"])
        if t is None or t.on_progress is None:
            return
        try:
            t.on_progress(f["percent"], f["message"])
        except Exception:
            log.exception("the progress callback of task %s raised", t.id)

    def _on_busy(self, f: dict):
        t = self._tasks.get(f["id"])
        if t is None:
            return
        if t.state is PendingState.BACKING_OFF:
            return log.debug("task %s: BUSY for a copy sent earlier, ignored", t.id)
        p = self._opts.retry
        info = BusyInfo(f["depth"], f["limit"], f["capacity"], f["retry_after_ms"] / 1000.0, f["reason"])
        in_time = p.deadline is None or self.clock() - t.submitted_at < p.deadline
        if not t.retry or t.busy_tries >= p.max_retries or not in_time:
            text = f"broker busy: queue {info.depth}/{info.limit}, capacity {info.capacity} ({info.reason})"
            return self._finish(t.id, error=TaskFailed("busy", text, t.id, busy=info))
        if not t.sent_for_room or t.busy_tries == 0:
            t.busy_tries += 1
        delay = busy_backoff(p, t.busy_tries, f["retry_after_ms"], self._rng.random())
        log.debug("task %s busy (%s), retry %d in %.3f s unless an outcome makes room first",
                  t.id, info.reason, t.busy_tries, delay)
        self._last_retry_after_ms = f["retry_after_ms"]
        self._wait_for_room(t, delay)

    # t waits here until an outcome makes room, or its timer fires after delay.
    def _wait_for_room(self, t: PendingTask, delay: float):
        t.state = PendingState.BACKING_OFF
        self._waiting_for_room.add(t.id)
        heapq.heappush(self._room_heap, (t.priority, t.seq, t.id))
        if t.retry_timer is None:
            def retry():
                t.sent_for_room = False
                self._send_submit(t)
            t.retry_timer = self._timers.timer(retry)
        t.retry_timer.start(delay)

    # An outcome left the broker, so it has room for one task: the first one
    # waiting for room (the highest lane, then the oldest) goes now instead of
    # when its timer fires.
    def _on_room(self):
        if not self._waiting_for_room or self._link.lost():
            return
        while self._room_heap:
            _, _, task_id = heapq.heappop(self._room_heap)
            if task_id in self._waiting_for_room:
                t = self._tasks[task_id]
                t.sent_for_room = True
                return self._send_submit(t)

    def _finish(self, task_id: str, value: Optional[bytes] = None, error: Optional[TaskFailed] = None):
        t = self._tasks.pop(task_id, None)
        if t is None:
            return log.debug("no task %s is waiting (already finished or timed out): outcome ignored", task_id)
        self._waiting_for_room.discard(task_id)
        t.stop_timers()
        self._update_idle()
        resolve(t.future, value, error)

    # --- status (I/O thread) ---

    def ask_status(self, waiter: concurrent.futures.Future, workers: bool):
        """Queues a status request; its waiter gets the reply as a dict."""
        if self._closing:
            return resolve(waiter, error=TaskFailed("cancelled", "the client is closed"))
        if not self._status_waiters:
            self._status_workers = False
        self._status_workers = self._status_workers or workers
        self._status_waiters.append(waiter)
        self._update_idle()
        self._send_status_request()

    def forget_status(self, waiter: concurrent.futures.Future):
        """A caller stopped waiting for this request."""
        if waiter in self._status_waiters:
            self._status_waiters.remove(waiter)
            self._update_idle()

    # Any STATUS_REPLY is a fresh snapshot, so a resent request can serve any
    # waiter; while one waiter wants the worker list, every request asks for it.
    def _send_status_request(self):
        if self._link.lost():
            return
        self._status_sent_on = self._link.generation
        self._link.send(protocol.status(self._status_workers))

    def _on_status_reply(self, f: dict):
        if not self._status_waiters:
            return  # an answer to a resent request
        waiter = self._status_waiters.popleft()
        self._update_idle()
        resolve(waiter, status_dict(f["snapshot"], f["workers"]))

    # With nothing outstanding the link stops pinging a broker it is in contact with.
    def _update_idle(self):
        self._link.set_idle(not self._tasks and not self._status_waiters)


WORKER_KEYS = {"id": "", "address": "", "capacity": 0, "slots": 0, "busy": 0, "done": 0,
               "last_heartbeat_ms": 0, "leaving": False}  # a worker entry's keys and what a missing one reads as


def status_dict(snapshot: dict, workers: Optional[list]) -> dict:
    """STATUS_REPLY as the caller gets it: the snapshot's keys, and with the worker
    list, "worker_list" (as `argon status --workers` prints it)."""
    out = {str(k): v for k, v in snapshot.items()}
    if workers is not None:
        out["worker_list"] = [{**WORKER_KEYS, **{str(k): v for k, v in w.items()}} for w in workers
                              if isinstance(w, dict)]
    return out

