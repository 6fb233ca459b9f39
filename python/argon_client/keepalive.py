"""Keepalive: when the client pings the broker, when it gives the broker up
for lost, when it makes a new socket, and until when a task may wait for a
broker it is not in contact with.

A state machine over times handed in by the caller (seconds from any
monotonic clock), so its tests need no sleeping; it is the C++ client's
keepalive, rule for rule. Until the first word naming a broker instance (a
PONG, or a HEARTBEAT) the link is connecting: it pings every heartbeat, and
after liveness heartbeats without contact it makes a new socket 1 s, 2 s,
4 s ... apart, at most 32 s, as it does when lost. After contact the broker
is alive while something has come from it within liveness x heartbeat, and
lost after that; while lost a reconnect is due at once, then on the same
backoff. Contact with an instance the link was not in contact with (the
first, a new one after a restart, or the same one after a loss) is news:
that broker may hold none of what was sent before it.

A client with nothing outstanding (no unfinished task, no status request)
is idle: once in contact it neither pings nor judges the broker's silence,
so idle clients cost a broker nothing. When work resumes, silence counts
from that moment and the owner pings at once. Before contact and while
lost, an idle client pings and reconnects as a busy one does.
"""

import enum
from dataclasses import dataclass
from typing import Optional


class LinkState(enum.Enum):
    """Where the link to the broker stands."""

    CONNECTING = "connecting"  # no instance has answered yet
    ALIVE = "alive"  # in contact
    LOST = "lost"  # silent for liveness heartbeats while the client had work


class ContactNews(enum.Enum):
    """What a message naming the broker's instance means for the tasks in flight."""

    FIRST_CONTACT = "first_contact"  # the first answer: what was sent before may have gone to a broker now gone
    SAME_BROKER = "same_broker"  # nothing new
    RESTARTED = "restarted"  # a new instance: it knows none of the client's tasks
    BACK = "back"  # the same instance answers again after being lost


class TickAction(enum.Enum):
    """What a heartbeat tick asks of the link."""

    PING = "ping"  # send a PING
    LOSE = "lose"  # the broker just went silent too long: give it up and reconnect now
    RECONNECT = "reconnect"  # no contact and the backoff has passed: make a new socket
    NONE = "none"  # wait


@dataclass(frozen=True)
class KeepaliveSettings:
    """How often to ping, how much silence to bear, how long a task may wait without contact (seconds)."""

    heartbeat: float = 1.0  # PING interval, before the first contact and after it while there is work
    liveness: int = 3  # heartbeats of silence before the broker is lost
    connect_timeout: float = 5.0  # before the first contact: how long a task may wait for it
    reconnect_timeout: Optional[float] = 60.0  # while lost: how long a task may wait; None or 0 = for ever


class ReconnectBackoff:
    """Gaps between new sockets while the broker is silent: 1 s, 2 s, 4 s ... at most 32 s."""

    FIRST = 1.0  # the wait after the first try, seconds
    LARGEST = 32.0  # no wait is longer; also libzmq's ZMQ_RECONNECT_IVL_MAX here

    def __init__(self):
        self._wait = self.FIRST  # what next() returns

    def next(self) -> float:
        """The wait before the next try; each call doubles the one after it, up to LARGEST."""
        wait = self._wait
        self._wait = min(self._wait * 2, self.LARGEST)
        return wait

    def reset(self):
        """The broker spoke: the next silence starts again at the first wait."""
        self._wait = self.FIRST


class Keepalive:
    """The broker's liveness as the client sees it."""

    def __init__(self, settings: KeepaliveSettings):
        self.settings = settings  # as given
        self.state = LinkState.CONNECTING  # changed only by _set_state
        self.instance = ""  # the broker instance that last answered
        self.last_heard = 0.0  # when anything last came from the broker
        self.idle = True  # nothing outstanding: no pings, silence not judged
        self.busy_since = 0.0  # when work last resumed; silence counts from here at the earliest
        self.lost_since = 0.0  # when the broker was given up for lost
        self._next_reconnect = 0.0  # without contact: when to make a new socket next
        self._backoff = ReconnectBackoff()  # without contact: gaps between new sockets

    def _silence_limit(self) -> float:
        return self.settings.heartbeat * self.settings.liveness

    def start(self, now: float):
        """The link opened its first socket at now."""
        self._backoff.reset()
        self._next_reconnect = now + self._silence_limit()  # as long as an alive broker may be silent

    def heard(self, now: float):
        """Any message came from the broker."""
        self.last_heard = max(self.last_heard, now)

    def contact(self, now: float, instance: str) -> ContactNews:
        """A PONG or HEARTBEAT came from the broker instance `instance`."""
        self.heard(now)
        before = self.state
        same = instance == self.instance
        self.instance = instance
        self._set_state(LinkState.ALIVE, now)
        if before is LinkState.CONNECTING:
            return ContactNews.FIRST_CONTACT
        if not same:
            return ContactNews.RESTARTED
        return ContactNews.BACK if before is LinkState.LOST else ContactNews.SAME_BROKER

    def set_idle(self, idle: bool, now: float) -> bool:
        """The owner has nothing outstanding (True) or has work again (False).
        Returns True when work resumes in contact with the broker: the owner should ping now."""
        resumed = self.idle and not idle
        self.idle = idle
        if resumed:
            self.busy_since = now
        return resumed and self.state is LinkState.ALIVE

    def tick(self, now: float) -> TickAction:
        """Called every heartbeat."""
        if self.state is LinkState.CONNECTING:
            return self._reconnect_when_due(now, TickAction.PING)
        if self.state is LinkState.LOST:
            return self._reconnect_when_due(now, TickAction.NONE)
        if self.idle:
            return TickAction.NONE
        if now - max(self.last_heard, self.busy_since) < self._silence_limit():
            return TickAction.PING
        self._set_state(LinkState.LOST, now)
        return TickAction.LOSE

    def give_up_at(self, waiting_since: float) -> Optional[float]:
        """When a task waiting since waiting_since gives up on a broker the link is not in
        contact with; None while in contact, or when it never gives up."""
        if self.state is LinkState.CONNECTING:
            return waiting_since + self.settings.connect_timeout
        if self.state is LinkState.LOST and self.settings.reconnect_timeout:
            return max(self.lost_since, waiting_since) + self.settings.reconnect_timeout
        return None

    # A new socket drops whatever the old one still queued (PINGs included),
    # so the queue stays short however long the broker is away.
    def _reconnect_when_due(self, now: float, meanwhile: TickAction) -> TickAction:
        if now < self._next_reconnect:
            return meanwhile
        self._next_reconnect = now + self._backoff.next()
        return TickAction.RECONNECT

    def _set_state(self, state: LinkState, now: float):
        if state is LinkState.LOST and self.state is not LinkState.LOST:
            self.lost_since = now
            self._backoff.reset()
            self._next_reconnect = now + self._backoff.next()  # this tick reconnects; the next waits 1 s
        self.state = state
