"""argon_client: a Python client for Argon, the task broker on ZeroMQ.

Written from docs/protocol.md; it keeps the C++ client's promises (every
task ends in exactly one outcome, the backlog stays with the client, a
restarted broker loses nothing). It needs only Debian's python3-zmq,
python3-msgpack and python3-nacl. See docs/python-client.md.

    from argon_client import Client, TaskFailed

    with Client("127.0.0.1:5555", keyfile="argon.key") as c:
        print(c.run("echo", b"hello"))          # b'hello'
        f = c.submit("sleep", b"1500", priority="high", timeout=10)
        try:
            print(f.result())
        except TaskFailed as e:
            print(e.kind, e.message)
"""

import logging

from .client import Client, normalize_endpoint
from .errors import ArgonError, BusyInfo, ConfigError, TaskFailed, UsageError
from .keys import Keypair, RoleKeys, derive_keys, load_keys
from .retry import RetryPolicy
from .task import TaskFuture

__all__ = ["Client", "TaskFuture", "TaskFailed", "BusyInfo", "RetryPolicy", "ArgonError", "ConfigError",
           "UsageError", "derive_keys", "load_keys", "Keypair", "RoleKeys", "normalize_endpoint"]

logging.getLogger("argon_client").addHandler(logging.NullHandler())
