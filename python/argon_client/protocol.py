"""Argon wire protocol, version 1, as a client speaks it (docs/protocol.md §2, §3).

The only module that turns frames into messages and back. A DEALER sends
[empty][header][payload?] and receives the same from the broker's ROUTER;
the header is one msgpack array [version, role, command, fields...], and
only SUBMIT and RESULT (of the commands a client sees) carry a payload
frame. decode() checks every field the client reads and raises
ProtocolError for anything else, so the session only ever sees whole,
well-typed messages. Trailing optional fields may be missing (a PONG of one
field says no payload limit); fields past the known ones are ignored, as
the fields added after version 1 show brokers add them.
"""

import enum
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import msgpack

VERSION = 1  # every header carries it
ROLE_CLIENT = 0  # the role a client's headers name
ROLE_BROKER = 3  # the role of the broker's replies

MAX_HEADER_BYTES = 65536  # a larger header frame is a protocol error
MAX_ID_BYTES = 128  # longest task id or task name, UTF-8 bytes
MAX_ATTEMPTS = 1000  # most starts a SUBMIT may allow
MAX_TIMEOUT_MS = 2**32 - 1  # largest timeout_ms
MAX_LIST_ITEMS = 1024  # most items in a header array (argv)
EXEC_TASK = "exec"  # the reserved task that runs a program named by argv

PRIORITIES = {"high": 0, "normal": 1, "low": 2}  # lane names and their wire values


class Command(enum.IntEnum):
    """The commands a client sends or receives, by wire value."""

    SUBMIT = 1
    CANCEL = 2
    STATUS = 3
    PING = 4
    RESULT = 10
    FAILED = 11
    BUSY = 12
    STATUS_REPLY = 13
    PONG = 14
    ERROR = 15
    PROGRESS = 23
    HEARTBEAT = 31


class ProtocolError(Exception):
    """A message from the broker that is not what protocol.md says; it is logged and dropped."""


@dataclass
class Message:
    """One decoded message from the broker."""

    command: Command  # what it is
    fields: Dict[str, Any] = field(default_factory=dict)  # header fields by their protocol.md names
    payload: Optional[bytes] = None  # the payload frame, for RESULT only


# Each command's header fields the client reads, in wire order: (name, type,
# required). A missing optional field reads as its type's zero.
_FIELDS = {
    Command.RESULT: (("id", str, True),),
    Command.FAILED: (("id", str, True), ("kind", str, True), ("message", str, True)),
    Command.BUSY: (("id", str, True), ("depth", int, True), ("limit", int, True), ("capacity", int, True),
                   ("retry_after_ms", int, True), ("reason", str, True)),
    Command.STATUS_REPLY: (("snapshot", dict, True), ("workers", list, False)),
    Command.PONG: (("broker", str, True), ("max_payload", int, False)),
    Command.ERROR: (("kind", str, True), ("message", str, True)),
    Command.PROGRESS: (("id", str, True), ("percent", int, True), ("message", str, True)),
    Command.HEARTBEAT: (("sender", str, True),),
}
_ZERO = {str: "", int: 0, dict: {}, list: None}
_WITH_PAYLOAD = {Command.SUBMIT, Command.RESULT}


def _header(command: Command, *fields) -> bytes:
    return msgpack.packb([VERSION, ROLE_CLIENT, int(command), *fields], use_bin_type=True)


def submit(task_id: str, task: str, priority: int, timeout_ms: int, max_attempts: int,
           payload: bytes, argv: Optional[List[str]] = None) -> List[bytes]:
    """SUBMIT's frames; argv only for task exec (a trailing optional field)."""
    fields = [task_id, task, priority, timeout_ms, max_attempts]
    if argv is not None:
        fields.append(list(argv))
    return [b"", _header(Command.SUBMIT, *fields), payload]


def submit_header_size(task_id: str, task: str, argv: Optional[List[str]]) -> int:
    """The size of a SUBMIT header with the largest numbers, to check it fits MAX_HEADER_BYTES."""
    return len(submit(task_id, task, 2, MAX_TIMEOUT_MS, MAX_ATTEMPTS, b"", argv)[1])


def cancel(task_id: str) -> List[bytes]:
    """CANCEL's frames."""
    return [b"", _header(Command.CANCEL, task_id)]


def status(workers: bool) -> List[bytes]:
    """STATUS's frames; the workers field only when true, so older brokers still answer."""
    return [b"", _header(Command.STATUS, True) if workers else _header(Command.STATUS)]


def ping() -> List[bytes]:
    """PING's frames."""
    return [b"", _header(Command.PING)]


def decode(frames: List[bytes]) -> Message:
    """A message from the broker as the DEALER received it; raises ProtocolError."""
    if len(frames) < 2 or frames[0] != b"":
        raise ProtocolError("no empty delimiter frame before the header")
    if len(frames[1]) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {len(frames[1])} bytes is over {MAX_HEADER_BYTES}")
    try:
        # Texts are msgpack str but may hold bytes that are not UTF-8 (a
        # program's stderr in a FAILED message): replace them rather than drop
        # the outcome. Task ids are the client's own ASCII.
        header = msgpack.unpackb(frames[1], raw=False, unicode_errors="replace", strict_map_key=False)
    except Exception as e:  # msgpack raises several types for bad input
        raise ProtocolError(f"header is not msgpack: {e}") from e
    if not isinstance(header, list) or len(header) < 3 or not all(_is_int(x) for x in header[:3]):
        raise ProtocolError("header is not an array [version, role, command, ...]")
    version, role, number = header[:3]
    if version != VERSION:
        raise ProtocolError(f"protocol version {version}, expected {VERSION}")
    if role != ROLE_BROKER:
        raise ProtocolError(f"role {role}, expected the broker's ({ROLE_BROKER})")
    try:
        command = Command(number)
    except ValueError:
        raise ProtocolError(f"unknown command {number}") from None
    if command not in _FIELDS:
        raise ProtocolError(f"{command.name} is not sent to clients")
    payload_frames = 1 if command in _WITH_PAYLOAD else 0
    if len(frames) != 2 + payload_frames:
        raise ProtocolError(f"{command.name} has {len(frames) - 2} payload frames, expected {payload_frames}")
    return Message(command, _read_fields(command, header[3:]), frames[2] if payload_frames else None)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _read_fields(command: Command, values: list) -> Dict[str, Any]:
    out = {}
    for i, (name, kind, required) in enumerate(_FIELDS[command]):
        if i >= len(values):
            if required:
                raise ProtocolError(f"{command.name} lacks field '{name}'")
            out[name] = _ZERO[kind]
            continue
        value = values[i]
        ok = _is_int(value) if kind is int else isinstance(value, kind)
        if not ok:
            raise ProtocolError(f"{command.name} field '{name}' is not {kind.__name__}")
        out[name] = value
    return out
