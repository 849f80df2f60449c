"""One asyncio connection from this broker to another (Kafka's NetworkClient for inter-broker requests): the
replica fetchers' Fetch and OffsetForLeaderEpoch to a leader, AlterPartition to the controller. kio encodes each
request and decodes each response; one request in flight at a time, every wait bounded."""

from __future__ import annotations

import asyncio
import io
import struct
from typing import Any

from kio.serial import entity_reader, entity_writer

_LEN = struct.Struct(">i")
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class BrokerConnection:
    def __init__(self, host: str, port: int, client_id: str) -> None:
        self.host, self.port = host, port
        self.client_id = client_id
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._correlation = 0
        self._lock = asyncio.Lock()

    async def connect(self, timeout: float) -> None:
        self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def call(self, body: Any, response_cls: type, timeout: float) -> Any:
        """Send body (a kio request of the version its class names) and read its response; a connection that
        fails or times out is closed (OSError / TimeoutError to the caller)."""
        async with self._lock:
            if self._reader is None or self._writer is None:
                raise ConnectionError(f"not connected to {self.host}:{self.port}")
            self._correlation += 1
            cls = type(body)
            header = cls.__header_schema__(request_api_key=cls.__api_key__, request_api_version=cls.__version__,
                                           correlation_id=self._correlation, client_id=self.client_id)
            buf = io.BytesIO()
            buf.write(b"\0\0\0\0")
            entity_writer(type(header))(buf, header)
            entity_writer(cls)(buf, body)
            data = buf.getbuffer()
            _LEN.pack_into(data, 0, len(data) - 4)
            try:
                self._writer.write(data)
                payload = await asyncio.wait_for(self._read_frame(self._reader), timeout)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
                self.close()
                raise ConnectionError(f"request to {self.host}:{self.port} failed: {e!r}") from None
        header_out, offset = entity_reader(response_cls.__header_schema__)(payload, 0)  # type: ignore[attr-defined]
        if header_out.correlation_id != self._correlation:
            self.close()
            raise ConnectionError(f"correlation id {header_out.correlation_id} != {self._correlation}")
        response: Any
        response, _ = entity_reader(response_cls)(payload, offset)
        return response

    @staticmethod
    async def _read_frame(reader: asyncio.StreamReader) -> bytes:
        (size,) = _LEN.unpack(await reader.readexactly(4))
        if size < 0 or size > MAX_RESPONSE_BYTES:
            raise OSError(f"response frame of {size} bytes")
        return await reader.readexactly(size)
