"""The shutting-down broker's side of controlled shutdown (KafkaServer.controlledShutdown): ControlledShutdown v3
to the active controller, retried controlled.shutdown.max.retries times, controlled.shutdown.retry.backoff.ms
apart, while the controller answers an error or partitions the broker still leads; then the broker stops anyway
("Proceeding to do an unclean shutdown"). kio encodes the request and decodes the answer; one blocking socket,
run off the event loop (the controller may be this broker, answering on its own listener)."""

from __future__ import annotations

import io
import logging
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from kio.schema.types import BrokerId
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i32, i64

from brook.errors import ErrorCode
from brook.protocol.controlled_shutdown import ControlledShutdownRequest, ControlledShutdownResponse

log = logging.getLogger("kafka.server.KafkaServer")
_LEN = struct.Struct(">i")


def _encode(entity: Any) -> bytes:
    buf = io.BytesIO()
    entity_writer(type(entity))(buf, entity)
    return buf.getvalue()


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the controller closed the connection")
        data += chunk
    return data


def send(host: str, port: int, request: ControlledShutdownRequest, timeout_s: float,
         correlation_id: int = 0) -> ControlledShutdownResponse:
    header = ControlledShutdownRequest.__header_schema__(
        request_api_key=request.__api_key__, request_api_version=request.__version__,
        correlation_id=i32(correlation_id), client_id=f"{request.broker_id}")
    payload = _encode(header) + _encode(request)
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(_LEN.pack(len(payload)) + payload)
        (size,) = _LEN.unpack(_read(sock, 4))
        frame = _read(sock, size)
    _, offset = entity_reader(ControlledShutdownResponse.__header_schema__)(frame, 0)
    response, _ = entity_reader(ControlledShutdownResponse)(frame, offset)
    return response


def controlled_shutdown(controller: Callable[[], tuple[str, int] | None], broker_id: int,
                        broker_epoch: Callable[[], int], retries: int, backoff_ms: int,
                        timeout_s: float = 30.0) -> bool:
    """True once the controller answered NONE with no partition left to move."""
    log.info("[KafkaServer id=%d] Starting controlled shutdown", broker_id)
    t0 = time.monotonic()
    remaining_retries = retries
    while True:
        remaining_retries -= 1
        address = controller()
        try:
            if address is None:
                raise ConnectionError("no controller")
            request = ControlledShutdownRequest(broker_id=BrokerId(broker_id), broker_epoch=i64(broker_epoch()))
            response = send(*address, request, timeout_s)
            if response.error_code == ErrorCode.none and not response.remaining_partitions:
                log.info("[KafkaServer id=%d] Controlled shutdown request returned successfully after %dms",
                         broker_id, (time.monotonic() - t0) * 1000)
                return True
            log.info("[KafkaServer id=%d] Remaining partitions to move: %s", broker_id,
                     ",".join(f"{r.topic_name}-{r.partition_index}" for r in response.remaining_partitions))
            log.info("[KafkaServer id=%d] Error from controller: %s", broker_id, response.error_code.name.upper())
        except Exception as e:  # noqa: BLE001 - whatever failed, the broker still stops
            log.warning("[KafkaServer id=%d] Error during controlled shutdown, possibly because leader movement took "
                        "longer than the configured controller.socket.timeout.ms and/or request.timeout.ms: %s",
                        broker_id, e)
        if remaining_retries <= 0:
            log.warning("[KafkaServer id=%d] Proceeding to do an unclean shutdown as all the controlled shutdown "
                        "attempts failed", broker_id)
            return False
        time.sleep(backoff_ms / 1000)  # the retry backoff, on the stopping broker's executor thread
        log.info("[KafkaServer id=%d] Retrying controlled shutdown (%d retries remaining)", broker_id,
                 remaining_retries)
