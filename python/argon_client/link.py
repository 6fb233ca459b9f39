"""The client's connection to the broker: one DEALER socket, kept alive with
PINGs, closed and made again while the broker is out of contact.

It owns the socket, the heartbeat timer and a Keepalive that decides when
to ping and when to make a new socket. It pings every heartbeat from the
start, so a broker that comes up is heard from within about a heartbeat,
and once in contact only while its owner has work. Every socket it makes
has the same routing id and CURVE keys, so the broker (ROUTER_HANDOVER)
gives a new socket the old one's place and outcomes still find the client.
A PONG or a broker HEARTBEAT names the broker's instance; contact with an
instance the link was not in contact with becomes on_contact, and every
other decoded message goes to on_message.

A socket's messages leave in order, so when the first contact is a PONG
answering the only PING a socket has sent (its first message), everything
sent on that socket went to this instance; anything else sent before
contact may have gone to a broker that is gone, and is to be sent again.
Used on the I/O thread only, once constructed.
"""

import logging
from dataclasses import dataclass
from typing import Callable, List, Optional

import zmq

from . import protocol
from .errors import ConfigError
from .keepalive import ContactNews, Keepalive, KeepaliveSettings, LinkState, ReconnectBackoff, TickAction
from .keys import RoleKeys
from .timers import TimerQueue

log = logging.getLogger("argon_client")

READ_BATCH = 1000  # messages read per wake-up before timers get their turn
QUEUE_LIMIT = 100000  # messages each way a socket may queue (ZMQ_SNDHWM, ZMQ_RCVHWM)
SEND_ALL = float("inf")  # on_contact argument: send again every unfinished task


@dataclass(frozen=True)
class LinkSettings:
    """Who the link talks to, as whom, and how patiently."""

    endpoint: str  # normalised broker endpoint, tcp://host:port
    routing_id: bytes  # the same for every socket of this client
    keys: Optional[RoleKeys]  # CURVE keys; None when insecure
    keepalive: KeepaliveSettings  # ping interval, liveness, how long tasks may wait without contact


@dataclass(frozen=True)
class LinkEvents:
    """What the link tells its owner, on the I/O thread."""

    on_message: Callable[[protocol.Message], None]  # anything from the broker but PONG and HEARTBEAT
    on_contact: Callable[[float], None]  # contact with an instance: send again what went on a socket older than this
    on_lost: Callable[[], None]  # the broker went silent for liveness heartbeats


class BrokerLink:
    """The socket to the broker and its keepalive."""

    def __init__(self, ctx: zmq.Context, settings: LinkSettings, events: LinkEvents, timers: TimerQueue):
        self._ctx = ctx  # owns the sockets
        self._settings = settings  # as given
        self._events = events  # the owner's callbacks
        self._now = timers.now  # the session's clock
        self.health = Keepalive(settings.keepalive)  # when to ping, when the broker is lost
        self.socket: Optional[zmq.Socket] = None  # the current DEALER
        self.generation = 0  # sockets made so far; the current socket's number
        self.broker_max_payload = 0  # the broker's --max-payload from its last PONG; 0: not said
        self._pings_on_socket = 0  # PINGs sent on the current socket
        self._reconnects = 0  # sockets made since the last contact
        self._heartbeat = timers.timer(self._tick)  # fires every heartbeat
        self._open_socket()
        self.health.start(self._now())
        self._ping()
        beat = settings.keepalive.heartbeat
        self._heartbeat.start(beat, interval=beat)

    @property
    def endpoint(self) -> str:
        return self._settings.endpoint

    def lost(self) -> bool:
        """Whether the broker is given up for lost (new tasks are held, not sent)."""
        return self.health.state is LinkState.LOST

    def send(self, frames: List[bytes]) -> bool:
        """Sends one message; False when the socket's outgoing queue is full."""
        try:
            self.socket.send_multipart(frames, flags=zmq.NOBLOCK, copy=False)
            return True
        except zmq.Again:
            return False

    def set_idle(self, idle: bool):
        """The owner has nothing outstanding, or has work again (then it pings at once)."""
        if self.health.set_idle(idle, self._now()):
            self._ping()

    def stop(self):
        """Stops pinging and closes the socket."""
        self._heartbeat.stop()
        self._close_socket()

    def read_available(self):
        """Reads what the socket holds, up to READ_BATCH messages, and hands each on."""
        for _ in range(READ_BATCH):
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self.health.heard(self._now())
            try:
                m = protocol.decode(frames)
            except protocol.ProtocolError as e:
                log.warning("malformed message from the broker: %s", e)
                continue
            if m.command is protocol.Command.PONG:
                self.broker_max_payload = m.fields["max_payload"]  # 0 from an older broker: not said
                self._on_instance(m.fields["broker"], answers_ping=True)
            elif m.command is protocol.Command.HEARTBEAT:
                self._on_instance(m.fields["sender"], answers_ping=False)
            else:
                self._events.on_message(m)

    def _open_socket(self):
        s = self._ctx.socket(zmq.DEALER)
        self.generation += 1
        self._pings_on_socket = 0
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.ROUTING_ID, self._settings.routing_id)
        s.setsockopt(zmq.SNDHWM, QUEUE_LIMIT)
        s.setsockopt(zmq.RCVHWM, QUEUE_LIMIT)
        # libzmq's own TCP retries back off like ours instead of every 100 ms for ever.
        s.setsockopt(zmq.RECONNECT_IVL_MAX, int(ReconnectBackoff.LARGEST * 1000))
        keys = self._settings.keys
        if keys is not None:
            s.curve_serverkey = keys.broker.public_z85()
            s.curve_publickey = keys.client.public_z85()
            s.curve_secretkey = keys.client.secret_z85()
        try:
            s.connect(self._settings.endpoint)
        except zmq.ZMQError as e:
            s.close()
            raise ConfigError(f"cannot use broker endpoint '{self._settings.endpoint}': {e}") from e
        self.socket = s

    def _close_socket(self):
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def _reconnect(self):
        self._reconnects += 1
        log.info("reconnecting to the broker at %s (attempt %d)", self.endpoint, self._reconnects)
        self._close_socket()
        self._open_socket()  # the endpoint connected before, so this does not raise
        self._ping()

    def _ping(self):
        self._pings_on_socket += 1
        self.send(protocol.ping())

    # Whatever was sent before contact with this instance may have gone to a
    # broker that is gone (or that forgot it), so the owner sends it again; only
    # a first contact that is a PONG answering the socket's one PING vouches for
    # the socket.
    def _on_instance(self, instance: str, answers_ping: bool):
        now = self._now()
        lost_since = self.health.lost_since
        resend_older_than = SEND_ALL
        news = self.health.contact(now, instance)
        if news is ContactNews.SAME_BROKER:
            return
        if news is ContactNews.FIRST_CONTACT:
            if answers_ping and self._pings_on_socket == 1:
                resend_older_than = self.generation
            log.info("broker at %s answered (instance %s)", self.endpoint, instance)
        elif news is ContactNews.RESTARTED:
            log.info("broker restarted: the broker at %s is a new instance (%s); resubmitting unfinished tasks",
                     self.endpoint, instance)
        else:
            log.info("the broker at %s answers again after %.1f s; resubmitting unfinished tasks",
                     self.endpoint, now - lost_since)
        self._reconnects = 0
        self._events.on_contact(resend_older_than)

    def _tick(self):
        now = self._now()
        action = self.health.tick(now)
        if action is TickAction.PING:
            self._ping()
        elif action is TickAction.LOSE:
            log.warning("the broker at %s is lost: nothing from it for %.1f s; keeping unfinished tasks and "
                        "reconnecting", self.endpoint, now - self.health.last_heard)
            self._reconnect()
            self._events.on_lost()
        elif action is TickAction.RECONNECT:
            self._reconnect()
