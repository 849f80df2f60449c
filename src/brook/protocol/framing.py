"""Size-prefixed frames: the length is checked against socket.request.max.bytes before anything is allocated."""

from __future__ import annotations

import struct

_LEN = struct.Struct(">i")


class FrameTooLarge(Exception):
    """A frame header announced more bytes than the broker accepts (or a negative size)."""


class FrameDecoder:
    """Feeds bytes in, yields complete frames (without their 4-byte length prefix)."""

    __slots__ = ("_buf", "limit", "setting")

    def __init__(self, max_frame_bytes: int, setting: str = "socket.request.max.bytes") -> None:
        self._buf = bytearray()
        self.limit = max_frame_bytes  # raised once a SASL client has logged in
        self.setting = setting

    def whole(self, data: bytes) -> bytes | None:
        """The usual read: data as its one frame if it is exactly one whole frame and nothing is buffered, else
        None (then feed it)."""
        if self._buf or len(data) < 4:
            return None
        size = _LEN.unpack_from(data)[0]
        return data[4:] if size + 4 == len(data) and size <= self.limit else None

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        if not buf:  # the usual read: nothing buffered and exactly one whole request
            size = _LEN.unpack_from(data)[0] if len(data) >= 4 else -1
            if size + 4 == len(data) and 0 <= size <= self.limit:
                return [data[4:]]
        buf += data
        frames: list[bytes] = []
        pos = 0
        end = len(buf)
        with memoryview(buf) as view:  # a frame is copied once (a bytearray slice would copy it twice)
            while end - pos >= 4:
                (size,) = _LEN.unpack_from(buf, pos)
                if size < 0 or size > self.limit:
                    raise FrameTooLarge(f"frame of {size} bytes exceeds {self.setting}={self.limit}")
                if end - pos - 4 < size:
                    break
                frames.append(bytes(view[pos + 4 : pos + 4 + size]))
                pos += 4 + size
        if pos:
            del buf[:pos]
        return frames

    @property
    def buffered(self) -> int:
        return len(self._buf)

