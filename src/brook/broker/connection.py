"""One client connection: frames in, responses out, strictly in request order (Kafka mutes a channel
while a request is in flight; here later requests queue behind a delayed one)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

from brook.protocol.framing import FrameDecoder, FrameTooLarge

if TYPE_CHECKING:
    from .server import Broker

log = logging.getLogger("kafka.network.Processor")

CLOSE = object()  # a dispatch result: drop the connection, as Kafka does for requests it cannot read
_MAX_QUEUED = 256


class KafkaConnection(asyncio.Protocol):
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.decoder = FrameDecoder(broker.max_request_bytes)
        self.queue: deque[bytes] = deque()
        self.busy = False
        self.paused = False
        self.closed = False
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.host = "?"  # the client's address, what ACL hosts match
        self.throttle_ms = 0  # set by a handler whose client is over its quota

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.host = peer[0] if peer else "?"
        self.broker.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.broker.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except FrameTooLarge as e:
            log.warning("Closing connection from %s: %s", self.peer, e)
            self.close()
            return
        if not frames:
            return
        self.queue.extend(frames)
        if not self.busy:
            self._run()
        elif len(self.queue) > _MAX_QUEUED and not self.paused:
            self.paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]

    def _run(self) -> None:
        out: list[bytes] = []
        queue = self.queue
        dispatch = self.broker.dispatcher.dispatch
        while queue and not self.closed:
            result = dispatch(self, queue.popleft())
            if result is None:
                if self.throttle_ms:
                    break
                continue
            if result.__class__ is bytes:
                out.append(result)  # type: ignore[arg-type]
                if self.throttle_ms:
                    break
            elif result is CLOSE:
                self._write(out)
                self.close()
                return
            else:
                self._write(out)
                self.busy = True
                asyncio.ensure_future(self._finish(result))
                return
        self._write(out)
        if self.throttle_ms and not self.closed:
            self._mute()
            return
        if self.paused and not self.closed:
            self.paused = False
            self.transport.resume_reading()  # type: ignore[union-attr]

    def throttle(self, ms: int) -> None:
        """Kafka (KIP-219) sends a throttled client's response at once, then reads nothing from it for `ms`."""
        self.throttle_ms = max(self.throttle_ms, ms)

    def _mute(self) -> None:
        ms, self.throttle_ms = self.throttle_ms, 0
        self.busy = True
        if not self.paused:
            self.paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        asyncio.get_running_loop().call_later(ms / 1000, self._unmute)

    def _unmute(self) -> None:
        self.busy = False
        if not self.closed:
            self._run()

    async def _finish(self, pending) -> None:
        try:
            result = await pending
        except Exception:
            log.exception("Error processing a delayed request from %s", self.peer)
            result = CLOSE
        self.busy = False
        if result is CLOSE:
            self.close()
            return
        if result is not None and not self.closed:
            self.transport.write(result)  # type: ignore[union-attr]
        if self.throttle_ms and not self.closed:
            self._mute()
            return
        self._run()

    def _write(self, out: list[bytes]) -> None:
        if out and not self.closed:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))  # type: ignore[union-attr]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()  # type: ignore[union-attr]
