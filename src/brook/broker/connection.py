"""One client connection: frames in, responses out, strictly in request order (Kafka mutes a channel
while a request is in flight; here later requests queue behind a delayed one)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from brook.acl import ANONYMOUS
from brook.protocol.framing import FrameDecoder, FrameTooLarge

if TYPE_CHECKING:
    from brook.protocol.produce_shape import ProduceShape

    from .dispatch import DispatchResult
    from .listeners import ListenerSecurity
    from .server import Broker

log = logging.getLogger("kafka.network.Processor")

CLOSE = object()  # a dispatch result: drop the connection, as Kafka does for requests it cannot read
_NOTHING = object()  # no dispatch result yet
# Requests read ahead of the one being handled (a pipelining client's), at most this many and this many bytes; beyond,
# they wait in the socket. Kafka reads one request per connection at a time; the bytes bound keeps a producer whose
# requests wait for an fsync (flush.messages) from parking hundreds of megabytes here, which the allocator then keeps.
_MAX_QUEUED = 256
_MAX_QUEUED_BYTES = 4 * 1024 * 1024


class KafkaConnection(asyncio.Protocol):
    def __init__(self, broker: Broker, security: ListenerSecurity) -> None:
        self.broker = broker
        self.security = security
        self.listener = security.endpoint.name
        self.principal = ANONYMOUS  # set by the TLS handshake (client certificate) or the SASL exchange
        self.sasl_mechanism: str | None = None
        self.session_expires: float | None = None  # KIP-368: the SASL session's end (monotonic), if it has one
        self.reauth_started: float | None = None  # when the last re-authentication began (monotonic)
        self.session = 0  # SASL sessions so far: a timer of an older one does not expire a renewed one
        # what handles a frame: the broker's dispatcher, or the SASL authenticator until the client has logged in
        self.dispatch: Callable[[KafkaConnection, bytes], DispatchResult] = broker.dispatcher.dispatch
        self.decoder = FrameDecoder(broker.max_request_bytes)
        self.poke = broker.idle_poll.poke  # each read keeps the loop polling a while (broker/idle_poll.py)
        self.idle_sweeps = 0  # sweeps of connections.max.idle.ms since this connection last received bytes
        self.admitted = False
        self.queue: deque[bytes] = deque()
        self.busy = False
        self.paused = False
        self.closed = False
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.host = "?"  # the client's address, what ACL hosts match
        self.throttle_ms = 0  # set by a handler whose client is over its quota
        self.produce_shapes: list[ProduceShape] = []  # the Produce handler's request shapes of this client
        self.produce_misses = 0  # Produce requests of no known shape since it last learnt one

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.host = peer[0] if peer else "?"
        if not self.broker.connection_quotas.admit(self):
            self.close()
            return
        self.admitted = True
        self.broker.connections.add(self)
        security = self.security
        if security.principal_mapper is not None:
            try:
                self.principal = security.certificate_principal(transport.get_extra_info("peercert"))
            except ValueError as e:  # no ssl.principal.mapping.rules rule applies: Kafka fails the handshake
                log.info("Failed authentication with /%s (%s)", self.host, e)
                self.close()
                return
        if security.sasl:
            self.dispatch = security.authenticator(self).dispatch
            self.decoder = FrameDecoder(security.max_receive, "sasl.server.max.receive.size")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.admitted:
            self.admitted = False
            self.broker.connection_quotas.release(self)
        self.broker.connections.discard(self)

    def authenticated(self, principal: str, mechanism: str, lifetime_ms: int | None) -> None:
        """The SASL exchange succeeded: requests go to the broker's dispatcher from now on. With a session
        lifetime (KIP-368), the session expires then unless the client re-authenticates."""
        self.principal = principal
        self.sasl_mechanism = mechanism
        self.session += 1
        self.dispatch = self.broker.dispatcher.dispatch
        self.decoder.limit = self.broker.max_request_bytes
        self.session_expires = None
        if lifetime_ms is not None:
            loop = asyncio.get_running_loop()
            self.session_expires = time.monotonic() + lifetime_ms / 1000
            loop.call_later(lifetime_ms / 1000, self._expire, self.session)

    def may_reauthenticate(self) -> bool:
        """KafkaChannel.maybeBeginServerReauthentication: a SaslHandshake on an authenticated connection starts a
        re-authentication only if the session has an end, and at most once a second; otherwise KafkaApis answers
        it (ILLEGAL_SASL_STATE)."""
        return self.session_expires is not None and (self.reauth_started is None
                                                     or time.monotonic() - self.reauth_started >= 1.0)

    def begin_reauthentication(self) -> bool:
        if not self.may_reauthenticate():
            return False
        self.reauth_started = time.monotonic()
        return True

    def _expire(self, session: int) -> None:
        if not self.closed and self.session == session and self.dispatch == self.broker.dispatcher.dispatch:
            self.dispatch = self._expired

    def _expired(self, conn: KafkaConnection, frame: bytes) -> DispatchResult:
        """KIP-368: past its session lifetime a connection may only re-authenticate (SaslHandshake, key 17)."""
        if frame[:2] == b"\x00\x11" and self.may_reauthenticate():
            return self.broker.dispatcher.dispatch(conn, frame)
        log.info("Disconnecting expired channel: %s : %s", self.peer, self.principal)
        return CLOSE

    def data_received(self, data: bytes) -> None:
        self.idle_sweeps = 0
        frame = None if self.busy or self.queue else self.decoder.whole(data)
        if frame is not None:  # the usual read: one request, nothing before it
            result = self.dispatch(self, frame)
            if result.__class__ is bytes and not self.throttle_ms and not self.closed:
                self.transport.write(result)  # type: ignore[union-attr,arg-type]
            else:
                self._run(result)
        else:
            self._read(data)
        self.poke()  # from the end of the work: the loop polls a while for this client's next request

    def _read(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except FrameTooLarge as e:
            log.warning("Closing connection from %s: %s", self.peer, e)
            self.close()
            return
        self.queue.extend(frames)
        if not self.busy:
            self._run()
        elif not self.paused and (len(self.queue) > _MAX_QUEUED or sum(map(len, self.queue)) > _MAX_QUEUED_BYTES):
            self.paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]

    def _run(self, result: DispatchResult = _NOTHING) -> None:
        """Dispatch queued frames (after taking the result of one dispatched already, if given) until one is
        delayed, throttled or closes the connection; the responses answered at once go out in one write."""
        out: list[bytes] = []
        queue = self.queue
        while not self.closed:
            if result is _NOTHING:
                if not queue:
                    break
                result = self.dispatch(self, queue.popleft())
            if result.__class__ is bytes:
                out.append(result)  # type: ignore[arg-type]
            elif result is CLOSE:
                self._write(out)
                self.close()
                return
            elif result is not None:
                self._write(out)
                self.busy = True
                asyncio.ensure_future(self._finish(result))
                return
            result = _NOTHING
            if self.throttle_ms:
                break
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
            self.broker.idle_poll.answered()
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
