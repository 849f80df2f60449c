"""Response templates: kio encodes a response shape once; later responses of that shape copy the bytes and
patch their integer fields in place (Produce acks: partition index, base offset and log start offset per
partition).

The template is found by encoding with distinct sentinel values and locating each sentinel's bytes, so the
layout always comes from kio's own writer: nothing here knows the wire format beyond "an int64 is 8 bytes, an
int32 4". A shape whose sentinels are not each found exactly once is not templated (the caller encodes it).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Hashable, Sequence

I64 = struct.Struct(">q")
I32 = struct.Struct(">i")
_CORR = struct.Struct(">i")
# + slot index: bytes that occur nowhere else in a small response (and not inside each other)
_SENTINELS = {I64.format: 0x5EB1_0000_0000_0000, I32.format: 0x7A3C_0000}
_MAX_SHAPES = 4096

Entry = tuple[bytes, tuple[tuple[Callable[[bytearray, int, int], None], int], ...]]


class TemplateCache:
    def __init__(self) -> None:
        self._shapes: dict[Hashable, Entry | None] = {}

    def render(self, shape: Hashable, build: Callable[[Sequence[int]], bytes], correlation_id: int,
               values: Sequence[int], pattern: tuple[struct.Struct, ...] = (I64,)) -> bytes | None:
        """The framed response for values, or None if this shape cannot be templated (then encode it). Slot i
        is an integer of kind pattern[i % len(pattern)]; build encodes the response with the given values."""
        if shape in self._shapes:
            entry = self._shapes[shape]
        else:
            entry = self._learn(len(values), pattern, build)
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            self._shapes[shape] = entry
        if entry is None:
            return None
        template, slots = entry
        out = bytearray(template)
        _CORR.pack_into(out, 4, correlation_id)
        for (pack_into, pos), value in zip(slots, values, strict=True):
            pack_into(out, pos, value)
        return bytes(out)

    @staticmethod
    def _learn(count: int, pattern: tuple[struct.Struct, ...], build: Callable[[Sequence[int]], bytes]) \
            -> Entry | None:
        kinds = [pattern[i % len(pattern)] for i in range(count)]
        sentinels = [_SENTINELS[k.format] + i for i, k in enumerate(kinds)]
        encoded = build(sentinels)
        slots = []
        for kind, s in zip(kinds, sentinels, strict=True):
            needle = kind.pack(s)
            pos = encoded.find(needle)
            if pos < 0 or encoded.find(needle, pos + 1) >= 0:
                return None
            slots.append((kind.pack_into, pos))
        return encoded, tuple(slots)
