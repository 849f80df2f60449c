"""Size-prefixed frames: the length is checked against socket.request.max.bytes before anything is allocated.

A frame that arrives in several reads (a producer's large request) is kept as the reads' own bytes and joined
once it is whole, into the frame without its size: its bytes are copied once, not into a buffer and out again."""

from __future__ import annotations

import struct

_LEN = struct.Struct(">i")


class FrameTooLarge(Exception):
    """A frame header announced more bytes than the broker accepts (or a negative size)."""


class FrameDecoder:
    """Feeds bytes in, yields complete frames (without their 4-byte length prefix)."""

    __slots__ = ("_chunks", "_held", "_need", "limit", "setting")

    def __init__(self, max_frame_bytes: int, setting: str = "socket.request.max.bytes") -> None:
        self._chunks: list[bytes | memoryview] = []  # the reads holding an incomplete frame (its size first)
        self._held = 0  # their bytes
        self._need = 0  # the bytes that frame needs with its size (4 until the size has arrived)
        self.limit = max_frame_bytes  # raised once a SASL client has logged in
        self.setting = setting

    def whole(self, data: bytes) -> bytes | None:
        """The usual read: data as its one frame if it is exactly one whole frame and nothing is held, else
        None (then feed it)."""
        if self._chunks or len(data) < 4:
            return None
        size = _LEN.unpack_from(data)[0]
        return data[4:] if size + 4 == len(data) and size <= self.limit else None

    def feed(self, data: bytes) -> list[bytes]:
        frames: list[bytes] = []
        if self._chunks:
            self._chunks.append(data)
            self._held += len(data)
            if self._held < self._need:
                return frames
            chunks, need, extra = self._chunks, self._need, self._held - self._need
            self._chunks, self._held, self._need = [], 0, 0
            if need == 4:  # the size itself came in pieces
                data = b"".join(chunks)
            else:  # the held frame is whole: one copy of it, without its size; what follows it is read on
                last = data  # the read just appended
                cut = len(last) - extra
                chunks[0], chunks[-1] = memoryview(chunks[0])[4:], memoryview(last)[:cut]
                frames.append(b"".join(chunks))
                data = last[cut:]
        pos = 0
        end = len(data)
        while end - pos >= 4:
            (size,) = _LEN.unpack_from(data, pos)
            if size < 0 or size > self.limit:
                raise FrameTooLarge(f"frame of {size} bytes exceeds {self.setting}={self.limit}")
            if end - pos - 4 < size:
                self._hold(data[pos:] if pos else data, 4 + size)
                return frames
            frames.append(data[pos + 4 : pos + 4 + size])
            pos += 4 + size
        if pos < end:
            self._hold(data[pos:], 4)
        return frames

    def _hold(self, rest: bytes, need: int) -> None:
        self._chunks, self._held, self._need = [rest], len(rest), need

    @property
    def buffered(self) -> int:
        return self._held
