"""A task on the client's side: its future, and what the session keeps of it until its outcome.

A PendingTask lives in the session's table from submission until its one
outcome, and only the I/O thread touches it. Its TaskFuture is the
caller's handle; it is resolved exactly once, on the I/O thread.
"""

import concurrent.futures
import enum
from dataclasses import dataclass
from typing import Callable, List, Optional

from .timers import Timer


class TaskFuture(concurrent.futures.Future):
    """A task's outcome: result() is its output (bytes) or raises TaskFailed.

    It is running from submission, so cancel() returns False; withdraw a task
    with Client.cancel(). Done-callbacks run on the client's I/O thread.
    """

    def __init__(self, task_id: str):
        super().__init__()
        self.task_id = task_id  # the id the task has on the wire
        self.set_running_or_notify_cancel()


class PendingState(enum.Enum):
    """Where an unfinished task stands on the client's side."""

    AWAITING_OUTCOME = "awaiting_outcome"  # sent (or held while the broker is lost); the broker owes an outcome
    BACKING_OFF = "backing_off"  # refused as busy, or new while others were: waits for room or its retry timer


@dataclass(eq=False)
class PendingTask:
    """A task the client is waiting on."""

    id: str  # task id, unique per client
    seq: int  # submission order, kept when resubmitting
    name: str  # task name
    payload: bytes  # input, kept for busy retries and resubmits
    priority: int  # lane, 0 high .. 2 low
    timeout: Optional[float]  # seconds from submission; None = never
    max_attempts: int  # starts the broker may make of the task
    retry: bool  # back off and resend on BUSY; False hands BUSY to the caller
    argv: Optional[List[str]]  # task exec: the program and its arguments, sent with every resubmit
    on_progress: Optional[Callable[[int, str], None]]  # runs on the I/O thread for each report
    future: TaskFuture  # resolved once, on the I/O thread
    submitted_at: float  # when the caller submitted it; every timeout counts from here
    state: PendingState = PendingState.AWAITING_OUTCOME  # changed only by the session's send and wait_for_room
    busy_tries: int = 0  # busy refusals of sends made on the retry timer
    sent_for_room: bool = False  # its last SUBMIT went because an outcome made room
    sent_on: float = 0  # the link's socket generation its last SUBMIT went out on; 0 = held
    retry_timer: Optional[Timer] = None  # pending busy retry
    timeout_timer: Optional[Timer] = None  # the caller's timeout
    give_up_timer: Optional[Timer] = None  # while out of contact: when it fails as unreachable

    def stop_timers(self):
        """The task has its outcome: none of its timers may fire."""
        for timer in (self.retry_timer, self.timeout_timer, self.give_up_timer):
            if timer:
                timer.stop()


def resolve(future: concurrent.futures.Future, value=None, error: Optional[BaseException] = None):
    """Gives a future its outcome, unless it has one (a status request the caller gave up on)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
