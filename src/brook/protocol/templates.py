"""Response templates: kio encodes a response shape once; later responses of that shape copy the bytes and
patch their integer fields in place (Produce acks: partition index, base offset and log start offset per
partition).

The template is found by encoding with distinct sentinel values and locating each sentinel's bytes, so the
layout always comes from kio's own writer: nothing here knows the wire format beyond "an int64 is 8 bytes, an
int32 4". The slots are looked for in order (linear in the response's size, so a shape of 1,000 partitions learns
in two encodings), and a second encoding with other values must come out of the template byte for byte, or the
shape is not templated (the caller encodes it): a sentinel's bytes found by accident cannot patch the wrong
place. A large shape is learnt the second time it is seen, so that shapes seen once cost one encoding.

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
_CHECKS = {I64.format: 0x4DA2_0000_0000_0000, I32.format: 0x6B2D_0000}  # the second encoding's values
_MAX_SHAPES = 4096
_EAGER_SLOTS = 64  # shapes with more slots than this are learnt when seen a second time
_UNKNOWN = object()

Slots = tuple[tuple[Callable[[bytearray, int, int], None], int], ...]
Entry = tuple[bytes, Slots]
# the template, its integer slots, and per byte-string slot the (start, end) of its length and sentinel bytes
BlobEntry = tuple[bytes, Slots, tuple[tuple[int, int], ...]]
_BLOB_SENTINEL = b"\xb1\x0b\x5e\xb1brook-blob-"  # + slot index: a byte string nothing else in a response holds
_BLOB_CHECK = b"\xc3"  # + slot index: the second encoding's byte strings (another length: another prefix)


class TemplateCache:
    def __init__(self) -> None:
        self._shapes: dict[Hashable, object] = {}  # an Entry, or None: not templated
        self._blob_shapes: dict[Hashable, object] = {}  # a BlobEntry, or None: not templated
        self._seen: set[Hashable] = set()  # large shapes seen once, not learnt yet

    def render(self, shape: Hashable, build: Callable[[Sequence[int]], bytes], correlation_id: int,
               values: Sequence[int], pattern: tuple[struct.Struct, ...] = (I64,)) -> bytes | None:
        """The framed response for values, or None if this shape has no template (then encode it). Slot i is
        an integer of kind pattern[i % len(pattern)]; build encodes the response with the given values."""
        found = self.entry(shape, build, len(values), pattern)
        return None if found is None else _fill(found, values, correlation_id)

    def entry(self, shape: Hashable, build: Callable[[Sequence[int]], bytes], count: int,
              pattern: tuple[struct.Struct, ...] = (I64,)) -> Entry | None:
        """The template of a shape of count slots (learnt now if it is new and small): the encoded response and
        its slots' (pack_into, position); None if it has none."""
        found = self._shapes.get(shape, _UNKNOWN)
        if found is _UNKNOWN:
            if not self._ready(shape, count):
                return None
            found = self._remember(self._shapes, shape, _learn(count, pattern, build))
        return cast(Entry | None, found)

    def render_blobs(self, shape: Hashable, build: Callable[[Sequence[int], Sequence[bytes]], bytes],
                     correlation_id: int, values: Sequence[int], pattern: tuple[struct.Struct, ...],
                     blobs: Sequence[bytes], prefix: Callable[[int], bytes]) -> bytes | None:
        """render, with byte-string slots as well: build encodes the response with the given integers and byte
        strings, prefix(n) gives the bytes that precede a byte string of n bytes (its length as kio writes it)."""
        found = self._blob_shapes.get(shape, _UNKNOWN)
        if found is _UNKNOWN:
            if not self._ready(shape, len(values) + len(blobs)):
                return None
            found = self._remember(self._blob_shapes, shape, _learn_blobs(len(values), pattern, len(blobs), build,
                                                                          prefix))
        if found is None:
            return None
        out = _fill_blobs(cast(BlobEntry, found), correlation_id, values, blobs, prefix)
        return out

    def _ready(self, shape: Hashable, slots: int) -> bool:
        """Whether to learn this shape now: a small one at once, a large one when it comes back."""
        if slots <= _EAGER_SLOTS or shape in self._seen:
            self._seen.discard(shape)
            return True
        if len(self._seen) >= _MAX_SHAPES:
            self._seen.clear()
        self._seen.add(shape)
        return False

    @staticmethod
    def _remember(shapes: dict[Hashable, object], shape: Hashable, entry: object) -> object:
        if len(shapes) >= _MAX_SHAPES:
            shapes.clear()
        shapes[shape] = entry
        return entry


def _learn(count: int, pattern: tuple[struct.Struct, ...], build: Callable[[Sequence[int]], bytes]) -> Entry | None:
    kinds = [pattern[i % len(pattern)] for i in range(count)]
    encoded = build([_SENTINELS[k.format] + i for i, k in enumerate(kinds)])
    slots = []
    at = 0
    for i, kind in enumerate(kinds):
        needle = kind.pack(_SENTINELS[kind.format] + i)
        pos = encoded.find(needle, at)
        if pos < 0:
            pos = encoded.find(needle)  # a slot before the previous one
            if pos < 0:
                return None
        slots.append((kind.pack_into, pos))
        at = pos + kind.size
    entry = encoded, tuple(slots)
    checks = [_CHECKS[k.format] + i for i, k in enumerate(kinds)]
    return entry if _fill(entry, checks) == build(checks) else None


def _fill(entry: Entry, values: Sequence[int], correlation_id: int | None = None) -> bytes:
    return bytes(_patched(*entry, values, correlation_id))


def _patched(template: bytes, slots: Slots, values: Sequence[int], correlation_id: int | None) -> bytearray:
    """A copy of the template with its integer slots (and the correlation id, if given) patched."""
    out = bytearray(template)
    if correlation_id is not None:
        _CORR.pack_into(out, 4, correlation_id)
    for (pack_into, pos), value in zip(slots, values, strict=True):
        pack_into(out, pos, value)
    return out


def _learn_blobs(count: int, pattern: tuple[struct.Struct, ...], blob_count: int,
                 build: Callable[[Sequence[int], Sequence[bytes]], bytes], prefix: Callable[[int], bytes]) \
        -> BlobEntry | None:
    sentinels = [_BLOB_SENTINEL + i.to_bytes(4, "big") for i in range(blob_count)]
    entry = _learn(count, pattern, lambda values: build(values, sentinels))
    if entry is None:
        return None
    encoded, slots = entry
    spans: list[tuple[int, int]] = []
    at = 0
    for s in sentinels:
        pos = encoded.find(s, at)
        before = prefix(len(s))
        if pos < 0 or encoded[pos - len(before):pos] != before:
            return None
        spans.append((pos - len(before), pos + len(s)))
        at = pos + len(s)
    if any(start <= p < end for _, p in slots for start, end in spans):
        return None
    found = encoded, slots, tuple(spans)
    kinds = [pattern[i % len(pattern)] for i in range(count)]
    checks = [_CHECKS[k.format] + i for i, k in enumerate(kinds)]
    blobs = [_BLOB_CHECK * (1 + i % 200) for i in range(blob_count)]
    correlation_id = int.from_bytes(encoded[4:8], "big", signed=True)
    return found if _fill_blobs(found, correlation_id, checks, blobs, prefix) == build(checks, blobs) else None


def _fill_blobs(entry: BlobEntry, correlation_id: int, values: Sequence[int], blobs: Sequence[bytes],
                prefix: Callable[[int], bytes]) -> bytes:
    template, slots, spans = entry
    out = _patched(template, slots, values, correlation_id)
    view = memoryview(out)
    pieces: list[bytes | memoryview] = []
    at = 0
    for (start, end), blob in zip(spans, blobs, strict=True):
        pieces += (view[at:start], prefix(len(blob)), blob)
        at = end
    pieces.append(view[at:])
    _CORR.pack_into(out, 0, sum(len(p) for p in pieces) - 4)  # the frame's length
    return b"".join(pieces)
