"""Raw-socket Kafka requests for tests: kio builds and reads every message (no second codec here); the framing
helpers are the CLI's (`brook.cli.kafka_rpc`).

Importable from any test module: pytest puts tests/ (the directory of the root conftest.py) on sys.path.
"""

from __future__ import annotations

import io
import socket
import struct
import time
from pathlib import Path

from brook.cli.kafka_rpc import decode_response, encode, request_payload

TIMEOUT = 10.0
CLIENT_ID = "brook-tests"
SPEC_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "kafka-protocol" / "messages"


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def request_frame(body: object, correlation_id: int = 1, client_id: str | None = CLIENT_ID) -> bytes:
    return frame(request_payload(body, correlation_id, client_id))


class Conn:
    """A blocking client socket with bounded waits."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self._next_id = 0

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv_exact(self, n: int) -> bytes:
        chunks = []
        while n:
            data = self.sock.recv(n)
            if not data:
                raise ConnectionError("connection closed by the broker")
            chunks.append(data)
            n -= len(data)
        return b"".join(chunks)

    def recv_payload(self) -> bytes:
        (size,) = struct.unpack(">i", self._recv_exact(4))
        return self._recv_exact(size)

    def request(self, body: object, response_cls: type) -> object:
        """Send a kio request, read and decode its response (checking the correlation id)."""
        self._next_id += 1
        self.send(request_frame(body, self._next_id))
        corr, response = decode_response(self.recv_payload(), response_cls)
        assert corr == self._next_id
        return response

    def closed_by_peer(self, timeout: float | None = None) -> bool:
        """True once the broker closes the connection (EOF or reset), False if it is still open at timeout.

        Any bytes the broker sends first are an error: a request it cannot read gets no response.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                return True
            finally:
                self.sock.settimeout(self.timeout)
            if not data:
                return True
            raise AssertionError(f"expected the broker to close the connection, got {data!r}")


def wait_for(condition, timeout: float = TIMEOUT, interval: float = 0.02, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll condition() until it returns a truthy value (returned) or the timeout passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def record_batch(values: list[bytes], keys: list[bytes | None] | None = None,
                 timestamp_ms: int | None = None) -> bytes:
    """A valid v2 RecordBatch (base offset 0, no producer id), written by kio's record writer."""
    import datetime

    from kio.records.schema import NewRecordBatch, Record
    from kio.records.writers import write_new_batch

    ts_ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    ts = datetime.datetime.fromtimestamp(ts_ms / 1000, datetime.UTC)
    keys = keys or [None] * len(values)
    records = tuple(Record(attributes=0, timestamp=ts, offset=i, key=k, value=v, headers=())
                    for i, (k, v) in enumerate(zip(keys, values, strict=True)))
    buf = io.BytesIO()
    write_new_batch(buf, NewRecordBatch(producer_id=-1, producer_epoch=-1, base_sequence=-1, records=records,
                                        attributes=0))
    return buf.getvalue()


def huge_array_payload(correlation_id: int = 1) -> bytes:
    """A ListOffsets v7 request whose topics array claims 2**32 - 2 elements in a 5-byte length (a kio-written
    request with its compact array length replaced). kio 0.6.5 would reserve 32 GiB for it and abort."""
    from kio.schema.list_offsets.v7.request import ListOffsetsRequest

    body = encode(ListOffsetsRequest(replica_id=-1, isolation_level=0, topics=()))
    assert body == b"\xff\xff\xff\xff\x00\x01\x00"  # replica id, isolation level, empty array, no tags
    header = request_payload(ListOffsetsRequest(replica_id=-1, isolation_level=0, topics=()),
                             correlation_id)[: -len(body)]
    return header + body[:5] + b"\xff\xff\xff\xff\x0f" + body[6:]
