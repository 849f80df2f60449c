"""Response templates: kio encodes a response shape once; later responses of that shape copy the bytes and
patch their integer fields in place (Produce acks: partition index, base offset and log start offset per
partition).

The template is found by encoding with distinct sentinel values and locating each sentinel's bytes, so the
layout always comes from kio's own writer: nothing here knows the wire format beyond "an int64 is 8 bytes, an
int32 4". A shape whose sentinels are not each found exactly once is not templated (the caller encodes it).

Byte strings (Fetch's records) are slots too: the template holds a sentinel string with the length kio wrote
before it, and each response splices in its own bytes behind the length the caller's `prefix` (kio's writer for
the field) gives for them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Hashable, Sequence
from typing import cast

I64 = struct.Struct(">q")
I32 = struct.Struct(">i")
_CORR = struct.Struct(">i")
# + slot index: bytes that occur nowhere else in a small response (and not inside each other)
_SENTINELS = {I64.format: 0x5EB1_0000_0000_0000, I32.format: 0x7A3C_0000}
_MAX_SHAPES = 4096
_UNKNOWN = object()

Slots = tuple[tuple[Callable[[bytearray, int, int], None], int], ...]
Entry = tuple[bytes, Slots]
# the template, its integer slots, and per byte-string slot the (start, end) of its length and sentinel bytes
BlobEntry = tuple[bytes, Slots, tuple[tuple[int, int], ...]]
_BLOB_SENTINEL = b"\xb1\x0b\x5e\xb1brook-blob-"  # + slot index: a byte string nothing else in a response holds


class TemplateCache:
    def __init__(self) -> None:
        self._shapes: dict[Hashable, Entry | None] = {}
        self._blob_shapes: dict[Hashable, object] = {}  # a BlobEntry, or None: not templated

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

    def render_blobs(self, shape: Hashable, build: Callable[[Sequence[int], Sequence[bytes]], bytes],
                     correlation_id: int, values: Sequence[int], pattern: tuple[struct.Struct, ...],
                     blobs: Sequence[bytes], prefix: Callable[[int], bytes]) -> bytes | None:
        """render, with byte-string slots as well: build encodes the response with the given integers and byte
        strings, prefix(n) gives the bytes that precede a byte string of n bytes (its length as kio writes it)."""
        found = self._blob_shapes.get(shape, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._learn_blobs(len(values), pattern, len(blobs), build, prefix)
            if len(self._blob_shapes) >= _MAX_SHAPES:
                self._blob_shapes.clear()
            self._blob_shapes[shape] = found
        if found is None:
            return None
        template, slots, spans = cast(BlobEntry, found)
        out = bytearray(template)
        _CORR.pack_into(out, 4, correlation_id)
        for (pack_into, pos), value in zip(slots, values, strict=True):
            pack_into(out, pos, value)
        view = memoryview(out)
        pieces: list[bytes | memoryview] = []
        at = 0
        for (start, end), blob in zip(spans, blobs, strict=True):
            pieces += (view[at:start], prefix(len(blob)), blob)
            at = end
        pieces.append(view[at:])
        size = sum(len(p) for p in pieces)
        _CORR.pack_into(out, 0, size - 4)  # the frame's length
        return b"".join(pieces)

    @classmethod
    def _learn_blobs(cls, count: int, pattern: tuple[struct.Struct, ...], blob_count: int,
                     build: Callable[[Sequence[int], Sequence[bytes]], bytes], prefix: Callable[[int], bytes]) \
            -> BlobEntry | None:
        sentinels = [_BLOB_SENTINEL + i.to_bytes(4, "big") for i in range(blob_count)]
        entry = cls._learn(count, pattern, lambda values: build(values, sentinels))
        if entry is None:
            return None
        encoded, slots = entry
        spans: list[tuple[int, int]] = []
        for s in sentinels:
            pos = encoded.find(s)
            before = prefix(len(s))
            if pos < 0 or encoded.find(s, pos + 1) >= 0 or encoded[pos - len(before):pos] != before:
                return None
            spans.append((pos - len(before), pos + len(s)))
        if spans != sorted(spans) or any(start <= p < end for _, p in slots for start, end in spans):
            return None
        return encoded, slots, tuple(spans)

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
