"""What the client does when the broker answers BUSY: the policy and its backoff.

A task refused as busy stays with the client and goes again when the
broker has room (the session's room signalling) or, failing that, after
max(base x (1 + ln n), the broker's retry_after) with some jitter, where n
counts the refusals; at most max_retries refusals, then the task fails as
busy. The formula and the 32 s cap are the C++ client's.
"""

import math
from dataclasses import dataclass
from typing import Optional

LONGEST_DELAY_MS = 32000.0  # no busy retry waits longer


@dataclass(frozen=True)
class RetryPolicy:
    """Busy handling for one client (seconds)."""

    base: float = 1.0  # the delay before busy retry n is base x (1 + ln n)
    max_retries: int = 30  # busy refusals a task may take before it fails as busy
    deadline: Optional[float] = None  # stop retrying this long after submit(); None = no deadline
    jitter: float = 0.1  # +- fraction of random spread on each delay


def busy_backoff(policy: RetryPolicy, n: int, hint_ms: int, unit_random: float) -> float:
    """The delay in seconds before busy retry n (n >= 1): max(base x (1 + ln n), hint),
    at most 32 s, then spread by +-jitter using unit_random in [0, 1]."""
    backoff_ms = policy.base * 1000.0 * (1.0 + math.log(max(n, 1)))
    hinted_ms = min(float(hint_ms), LONGEST_DELAY_MS)
    base_ms = min(max(backoff_ms, hinted_ms), LONGEST_DELAY_MS)
    spread = 1.0 + policy.jitter * (2.0 * min(max(unit_random, 0.0), 1.0) - 1.0)
    return round(base_ms * spread) / 1000.0
