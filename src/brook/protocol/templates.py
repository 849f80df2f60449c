"""Response templates: kio encodes a response shape once; later responses of that shape copy the bytes and
patch their int64 fields in place (Produce acks: base offset and log start offset per partition).

The template is found by encoding with distinct sentinel values and locating each sentinel's 8 bytes, so the
layout always comes from kio's own writer: nothing here knows the wire format beyond "an int64 is 8 bytes".
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Hashable, Sequence

_I64 = struct.Struct(">q")
_CORR = struct.Struct(">i")
_SENTINEL = 0x5EB1_0000_0000_0000  # + slot index: eight bytes that occur nowhere else in a small response
_MAX_SHAPES = 4096


class TemplateCache:
    def __init__(self) -> None:
        self._shapes: dict[Hashable, tuple[bytes, tuple[int, ...]] | None] = {}

    def render(self, shape: Hashable, slots: int, build: Callable[[Sequence[int]], bytes],
               correlation_id: int, values: Sequence[int]) -> bytes | None:
        """The framed response for values, or None if this shape cannot be templated (then encode it)."""
        if shape in self._shapes:
            entry = self._shapes[shape]
        else:
            entry = self._learn(slots, build)
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            self._shapes[shape] = entry
        if entry is None:
            return None
        template, positions = entry
        out = bytearray(template)
        _CORR.pack_into(out, 4, correlation_id)
        for pos, value in zip(positions, values, strict=True):
            _I64.pack_into(out, pos, value)
        return bytes(out)

    @staticmethod
    def _learn(slots: int, build: Callable[[Sequence[int]], bytes]) -> tuple[bytes, tuple[int, ...]] | None:
        sentinels = [_SENTINEL + i for i in range(slots)]
        encoded = build(sentinels)
        positions = []
        for s in sentinels:
            needle = _I64.pack(s)
            pos = encoded.find(needle)
            if pos < 0 or encoded.find(needle, pos + 1) >= 0:
                return None
            positions.append(pos)
        return encoded, tuple(positions)
