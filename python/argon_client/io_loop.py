"""IoLoop: the client's one I/O thread, and how other threads hand it work.

ZeroMQ sockets are not thread-safe, so one thread owns the broker socket
and everything the client keeps about its tasks. It runs a loop: zmq_poll
on the socket and on a wake-up socketpair, at most until the next timer is
due; then the inbox, the socket's messages and the due timers, in that
order. post() from another thread appends to a locked inbox and, when the
inbox was empty, writes one byte to the socketpair; from the I/O thread it
runs the work at once. Once the loop has ended, work posted late still
runs (in the poster's thread, with nothing else touching the session), so
no caller waits for an answer that would never come.
"""

import logging
import math
import socket
import threading
from typing import Callable, List, Optional

import zmq

from .timers import TimerQueue

log = logging.getLogger("argon_client")


class IoLoop:
    """One thread polling one socket (which its owner may replace) and a timer queue."""

    def __init__(self, timers: TimerQueue):
        self._timers = timers  # run when due
        self._running = True  # the loop goes on; cleared by stop()
        self._inbox_lock = threading.Lock()  # guards _inbox, _ended and the wake writer
        self._inbox: List[Callable[[], None]] = []  # work posted from other threads
        self._ended = False  # the loop has ended: post() runs work in the caller's thread
        self._wake_reader, self._wake_writer = socket.socketpair()  # one byte wakes the loop
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._thread: Optional[threading.Thread] = None  # the I/O thread, once started

    def start(self, current_socket: Callable[[], zmq.Socket], on_readable: Callable[[], None],
              on_crash: Callable[[], None], on_end: Callable[[], None]):
        """Starts the thread. current_socket() is polled (looked up each turn, since the
        owner replaces it); on_readable reads it; on_crash runs if a callback raises;
        on_end runs on the thread when the loop ends, to close what it owns."""
        self._thread = threading.Thread(target=self._run, args=(current_socket, on_readable, on_crash, on_end),
                                        name="argon-client-io", daemon=True)
        self._thread.start()

    def on_io_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def post(self, fn: Callable[[], None]):
        """Runs fn on the I/O thread: at once when called on it, else at its next turn."""
        if self.on_io_thread():
            fn()
            return
        with self._inbox_lock:
            ended = self._ended
            if not ended:
                if not self._inbox:
                    try:
                        self._wake_writer.send(b"w")
                    except OSError:
                        pass  # the pair is full: a wake-up is pending already
                self._inbox.append(fn)
        if ended:
            fn()

    def stop(self):
        """I/O thread: the loop ends after this turn."""
        self._running = False

    def join(self):
        """Waits for the thread to end (not from the thread itself)."""
        if self._thread is not None and not self.on_io_thread():
            self._thread.join()

    def close_unstarted(self):
        """Frees the socketpair of a loop that never started."""
        self._wake_reader.close()
        self._wake_writer.close()

    def _run(self, current_socket, on_readable, on_crash, on_end):
        poller, polled = None, None
        wake_fd = self._wake_reader.fileno()
        try:
            while self._running:
                sock = current_socket()
                if sock is not polled:  # the owner made a new socket
                    poller, polled = zmq.Poller(), sock
                    poller.register(sock, zmq.POLLIN)
                    poller.register(wake_fd, zmq.POLLIN)
                delay = self._timers.next_delay()
                ready = dict(poller.poll(None if delay is None else math.ceil(delay * 1000)))
                if wake_fd in ready:
                    self._take_inbox()
                if self._running and sock in ready:
                    on_readable()
                if self._running:
                    self._timers.run_due()
        except Exception:
            log.exception("the client's I/O thread failed; unfinished tasks fail as cancelled")
            on_crash()
        finally:
            on_end()
            self._end()

    def _take_inbox(self):
        try:
            while self._wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._inbox_lock:
            work, self._inbox = self._inbox, []
        for fn in work:
            fn()

    # Work posted while the loop ended still gets its answer (a task submitted
    # then fails as cancelled); later posts run in their caller.
    def _end(self):
        with self._inbox_lock:
            self._ended = True
            work, self._inbox = self._inbox, []
            self._wake_writer.close()
        self._wake_reader.close()
        for fn in work:
            fn()
