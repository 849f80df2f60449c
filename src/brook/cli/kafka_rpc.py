"""One request, one response: the Admin calls confluent-kafka and librdkafka do not offer (DescribeLogDirs, the
KIP-664 transaction APIs, WriteTxnMarkers, client quotas), sent to one broker over a blocking socket.

This is not a second client: kio encodes every request and decodes every response (Kafka's own specs), there is no
batching, retry, producer or consumer here, and the tools still find the cluster (brokers, leaders) with
confluent-kafka. The version sent is the one the caller built, checked first against the broker's ApiVersions.
"""

from __future__ import annotations

import importlib
import io
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from brook.cli.clients import ToolError

if TYPE_CHECKING:
    from kio.static.protocol import Entity, RequestPayload, ResponsePayload

    R = TypeVar("R", bound=ResponsePayload)

CLIENT_ID = "brook-admin"
MAX_RESPONSE_BYTES = 100 * 1024 * 1024


# kio is imported where it is used: importing this module stays cheap, so a tool pays for kio only once its main()
# runs (options.entry_point has by then kept kio from loading hypothesis, a test-only package)


def encode(entity: Entity) -> bytes:
    from kio.serial import entity_writer

    buf = io.BytesIO()
    entity_writer(type(entity))(buf, entity)
    return buf.getvalue()


def request_payload(body: RequestPayload, correlation_id: int, client_id: str | None = CLIENT_ID) -> bytes:
    """Request header (the version the body's class names) and body, without the size prefix."""
    from kio.static.primitive import i32

    cls = type(body)
    header = cls.__header_schema__(request_api_key=cls.__api_key__, request_api_version=cls.__version__,
                                   correlation_id=i32(correlation_id), client_id=client_id)
    return encode(header) + encode(body)


def decode_response(payload: bytes, cls: type[R]) -> tuple[int, R]:
    """(correlation id, body) of a response payload (no size prefix); the whole payload must be read."""
    from kio.serial import entity_reader

    header, offset = entity_reader(cls.__header_schema__)(payload, 0)
    body, size = entity_reader(cls)(payload, offset)
    if offset + size != len(payload):
        raise ValueError(f"{len(payload) - offset - size} bytes left after {cls.__name__}")
    return header.correlation_id, body


def timeout_error(what: str) -> ToolError:
    return ToolError("org.apache.kafka.common.errors.TimeoutException", f"Timed out waiting for a node assignment. "
                     f"Call: {what}")


class BrokerConnection:
    """A blocking connection to one broker; every wait is bounded by the deadline given at connect time."""

    def __init__(self, host: str, port: int, deadline: float, security: dict[str, str] | None = None) -> None:
        """`security`: the tool's Java client properties; security.protocol other than PLAINTEXT brings TLS and
        SASL (rpc_security)."""
        from brook.cli import rpc_security

        self.deadline = deadline
        self._next_id = 0
        try:
            self.sock = socket.create_connection((host, port), timeout=self._left())
            self.sock = rpc_security.wrap(self.sock, host, security or {})
        except OSError as e:
            raise ToolError("org.apache.kafka.common.errors.NetworkException",
                            f"Connection to {host}:{port} could not be established: {e.strerror or e}") from None
        from kio.schema.api_versions.v3.request import ApiVersionsRequest
        from kio.schema.api_versions.v3.response import ApiVersionsResponse

        self.versions: dict[int, tuple[int, int]] = {}
        response = self._call(ApiVersionsRequest(client_software_name="brook-cli", client_software_version="0.1.0"),
                              ApiVersionsResponse)
        self.versions = {int(k.api_key): (int(k.min_version), int(k.max_version)) for k in response.api_keys}
        rpc_security.authenticate(self._call, security or {})

    def __enter__(self) -> BrokerConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def _recv_exact(self, n: int) -> bytes:
        chunks = []
        while n:
            self.sock.settimeout(self._left())
            data = self.sock.recv(min(n, 1 << 20))
            if not data:
                raise ToolError("org.apache.kafka.common.errors.NetworkException",
                                "The server disconnected before a response was received.")
            chunks.append(data)
            n -= len(data)
        return b"".join(chunks)

    def _call(self, body: RequestPayload, response_cls: type[R]) -> R:
        self._next_id += 1
        payload = request_payload(body, self._next_id)
        self.sock.settimeout(self._left())
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        if not 0 <= size <= MAX_RESPONSE_BYTES:
            raise ToolError("org.apache.kafka.common.errors.NetworkException", f"Invalid response size {size}")
        correlation_id, response = decode_response(self._recv_exact(size), response_cls)
        if correlation_id != self._next_id:
            raise ToolError("org.apache.kafka.common.errors.NetworkException",
                            f"Correlation id {correlation_id} does not match request {self._next_id}")
        return response

    def supports(self, body: RequestPayload) -> bool:
        cls = type(body)
        lo, hi = self.versions.get(int(cls.__api_key__), (0, -1))
        return lo <= int(cls.__version__) <= hi

    def request(self, body: RequestPayload, response_cls: type[R]) -> R:
        """Send a kio request the broker's ApiVersions admits and return its decoded response."""
        if not self.supports(body):
            raise ToolError("org.apache.kafka.common.errors.UnsupportedVersionException",
                            f"The broker does not support {type(body).__name__[:-len('Request')]} "
                            f"v{type(body).__version__}")
        return self._call(body, response_cls)


def connect(host: str, port: int, deadline: float, call: str,
            security: dict[str, str] | None = None) -> BrokerConnection:
    """A connection whose waits end at `deadline`; running out of time is Java's TimeoutException for `call`.
    `security`: the tool's client properties (TLS and SASL when security.protocol asks for them)."""
    try:
        return BrokerConnection(host, port, deadline, security)
    except TimeoutError:
        raise timeout_error(call) from None


def connect_to(address: str, deadline: float, call: str, security: dict[str, str] | None = None
               ) -> BrokerConnection:
    """connect() to a `host:port` (an IPv6 host may be bracketed) as bootstrap lists spell it; an unreachable node
    is retried every retry.backoff.ms (100) until the deadline, then the call times out, as the Java Admin's do."""
    host, _, port = address.strip().rpartition(":")
    while True:
        try:
            return connect(host.strip("[]"), int(port), deadline, call, security)
        except ToolError as e:
            if not e.java_class.endswith(".NetworkException"):
                raise
            if time.monotonic() + 0.1 >= deadline:
                raise timeout_error(call) from None
            time.sleep(0.1)


def call(conn: BrokerConnection, body: RequestPayload, response_cls: type[R], what: str) -> R:
    try:
        return conn.request(body, response_cls)
    except TimeoutError:
        raise timeout_error(what) from None
    except OSError as e:
        raise ToolError("org.apache.kafka.common.errors.NetworkException", str(e)) from None


def call_highest(conn: BrokerConnection, api: str, versions: Iterable[int], build: Callable[[Any], RequestPayload],
                 what: str) -> Any:
    """Build a request with kio's module `kio.schema.<api>.v<N>.request` at the highest of `versions` the broker
    admits (as the Java Admin picks the newest usable version), send it and return the response. When none fits,
    the lowest is sent through request(), which raises UnsupportedVersionException."""
    body: RequestPayload | None = None
    for version in sorted(versions, reverse=True):
        body = build(importlib.import_module(f"kio.schema.{api}.v{version}.request"))
        if conn.supports(body):
            break
    assert body is not None, "call_highest needs at least one version"
    response_module = importlib.import_module(f"kio.schema.{api}.v{type(body).__version__}.response")
    response_cls = getattr(response_module, type(body).__name__[:-len("Request")] + "Response")
    return call(conn, body, response_cls, what)
