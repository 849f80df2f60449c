"""A connection reads a pipelining client's requests ahead of the one being handled only so far: 256 frames or
4 MiB, then it stops reading (the rest waits in the socket) until it has answered what it holds."""

from __future__ import annotations

import asyncio
import struct

from request_contexts import detached_connection

MIB = 1024 * 1024


class RecordingTransport(asyncio.Transport):
    """What the connection asked of its socket."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = True
        self.written: list[bytes] = []

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))


def framed(size: int) -> bytes:
    return struct.pack(">i", size) + bytes(size)


def busy_connection():  # noqa: ANN201
    """A connection whose first request waits (a delayed answer, as for an fsync), each later one answered at once."""
    conn = detached_connection()
    transport = RecordingTransport()
    conn.transport = transport
    conn.dispatch = lambda c, frame: b"answer"
    conn.busy = True
    return conn, transport


def test_stops_reading_past_four_mebibytes_held() -> None:
    conn, transport = busy_connection()
    for _ in range(4):
        conn.data_received(framed(MIB - 16))
    assert transport.reading and len(conn.queue) == 4  # under 4 MiB: the client's next requests are read on
    conn.data_received(framed(MIB))
    assert not transport.reading and len(conn.queue) == 5  # over it: the rest waits in the socket
    conn.busy = False  # the delayed answer went out: the connection answers what it holds, then reads again
    conn._run()
    assert transport.reading and not conn.queue and len(transport.written) == 1


def test_stops_reading_past_256_small_requests() -> None:
    conn, transport = busy_connection()
    conn.data_received(framed(100) * 256)
    assert transport.reading
    conn.data_received(framed(100))
    assert not transport.reading and len(conn.queue) == 257
