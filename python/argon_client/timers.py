"""Timers for the client's I/O thread: one heap, polled by the loop.

The loop asks next_delay() how long it may sleep in zmq_poll and calls
run_due() when it wakes. A Timer can be started, restarted and stopped any
number of times; stopping is lazy (a stale heap entry is skipped when it
comes up), so each is O(log n). Due timers fire in deadline order, and a
repeating timer is re-armed before its callback runs, so the callback may
stop it. Only the I/O thread touches a TimerQueue.
"""

import heapq
import itertools
from typing import Callable, List, Optional, Tuple


class Timer:
    """One callback that the queue runs when its deadline passes."""

    def __init__(self, queue: "TimerQueue", fn: Callable[[], None]):
        self._queue = queue  # the queue it lives in
        self._fn = fn  # what to run
        self._generation = 0  # bumped by start and stop; a heap entry of another generation is stale
        self._interval: Optional[float] = None  # repeat every this many seconds; None = once
        self.deadline: Optional[float] = None  # when it fires next; None while stopped

    def start(self, delay: float, interval: Optional[float] = None):
        """Fires after delay seconds (now if negative), then every interval seconds if given."""
        self._generation += 1
        self._interval = interval
        self.deadline = self._queue.now() + max(delay, 0.0)
        self._queue._push(self)

    def stop(self):
        """Forgets any pending firing."""
        self._generation += 1
        self.deadline = None

    @property
    def active(self) -> bool:
        """Whether it will fire."""
        return self.deadline is not None


class TimerQueue:
    """Every timer of one I/O thread."""

    def __init__(self, clock: Callable[[], float]):
        self.now = clock  # the session's clock, seconds
        self._heap: List[Tuple[float, int, int, Timer]] = []  # (deadline, tie-break, generation, timer)
        self._order = itertools.count()  # tie-break: equal deadlines fire in start order

    def timer(self, fn: Callable[[], None]) -> Timer:
        """A new, stopped timer."""
        return Timer(self, fn)

    def _push(self, t: Timer):
        heapq.heappush(self._heap, (t.deadline, next(self._order), t._generation, t))

    def _drop_stale(self):
        while self._heap and self._heap[0][2] != self._heap[0][3]._generation:
            heapq.heappop(self._heap)

    def next_delay(self) -> Optional[float]:
        """Seconds until the first timer is due (0 if one is); None when none is armed."""
        self._drop_stale()
        if not self._heap:
            return None
        return max(self._heap[0][0] - self.now(), 0.0)

    def run_due(self):
        """Runs every timer whose deadline has passed, in deadline order."""
        now = self.now()
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                return
            deadline, _, _, t = heapq.heappop(self._heap)
            if t._interval is not None:
                t._generation += 1
                t.deadline = max(deadline + t._interval, now)
                self._push(t)
            else:
                t._generation += 1
                t.deadline = None
            t._fn()
