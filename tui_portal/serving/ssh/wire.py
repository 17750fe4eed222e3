"""Messages between the server and its template process: one JSON object per datagram of
a Unix ``SOCK_SEQPACKET`` socket pair, a terminal's file descriptor riding along with
``start``.

server → template: ``{"start": N, "term": T, "source": S}`` (+ the terminal),
``{"signal": N, "number": SIG}``.
template → server: ``{"ready": PID}`` or ``{"failed": MESSAGE}`` once, then
``{"started": N, "pid": PID}`` and ``{"exited": N, "status": STATUS}`` per session.
"""

from __future__ import annotations

import json
import os
import socket

Message = dict[str, str | int]
MAX_MESSAGE = 4096


def encode(message: Message) -> bytes:
    """A message as it travels."""
    return json.dumps(message).encode()


def decode(data: bytes) -> Message:
    """A message as it arrived (an unreadable one reads as empty)."""
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def receive(sock: socket.socket) -> tuple[Message | None, list[int]]:
    """The next message and the descriptors that came with it; ``None`` at end of stream."""
    data, fds, _flags, _address = socket.recv_fds(sock, MAX_MESSAGE, 1)
    if not data:
        for fd in fds:
            socket.close(fd)
        return None, []
    return decode(data), fds


def exit_status(wait_status: int) -> int:
    """A process's exit status as a shell reports it: 128 + N for death by signal N."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code
