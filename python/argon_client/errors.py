"""What the Argon client raises, and what a busy broker said.

Everything the client raises on purpose derives from ArgonError:
ConfigError for options and keyfiles it cannot use, TaskFailed for a task
(or a status request) that did not succeed, UsageError for a blocking call
made from the client's own I/O thread. Arguments of the wrong type or value
raise the built-in TypeError and ValueError, before anything is sent.
"""

from dataclasses import dataclass
from typing import Optional


class ArgonError(Exception):
    """The base of every error the client raises on purpose."""


class ConfigError(ArgonError):
    """An option or keyfile the client cannot use; the message says which and why."""


class UsageError(ArgonError):
    """A call that cannot work where it was made, e.g. a blocking call on the I/O thread."""


@dataclass(frozen=True)
class BusyInfo:
    """What the broker said when it refused a task as busy (BUSY, docs/protocol.md §3)."""

    depth: int  # tasks queued at the broker
    limit: int  # its queue limit in tasks
    capacity: int  # connected worker slots
    retry_after: float  # the broker's estimate of the wait, seconds
    reason: str  # queue_full, queue_bytes, no_workers, starting, draining, client_slow, client_share


class TaskFailed(ArgonError):
    """A task ended without a result.

    kind is one of the failure kinds of docs/protocol.md §5 (task_error,
    timeout, cancelled, worker_lost, payload_too_large, protocol_error,
    unknown_task, not_allowed, result_too_large, exec_failed, or a worker's
    own snake_case kind) or one the client gives itself: busy, unreachable,
    timeout, cancelled.
    """

    def __init__(self, kind: str, message: str, task_id: str = "", busy: Optional[BusyInfo] = None):
        super().__init__(f"{kind}: {message}")
        self.kind = kind  # machine-readable failure kind
        self.message = message  # human-readable text, e.g. the handler's error
        self.task_id = task_id  # the task's id; "" for a status request
        self.busy = busy  # what the broker said, when kind is "busy" because of a BUSY reply
