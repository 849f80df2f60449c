"""Fetch responses from templates (protocol/templates.py). The usual answer (every partition without an error, no
aborted transactions to list, no diverging epoch, preferred replica or leader to name) is kio's encoding of its
shape with the integers and the records spliced in, instead of kio's writer walking every field of every
response: a consumer that keeps up sends a fetch per batch produced, and kio writes in Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kio.serial import writers

from brook.protocol.templates import I32, I64, TemplateCache

if TYPE_CHECKING:
    from .dispatch import RequestContext
    from .handlers.fetch import Row

_PARTITION = (I32, I64, I64, I64)  # partition index, high watermark, last stable offset, log start offset


def templated(templates: TemplateCache, ctx: RequestContext, plan, rows: list[Row], session_id: int,
              build: Callable[[list[Row], int], bytes]) -> bytes | None:
    """The framed response of error-free rows, or None if their shape cannot have a template. The shape names the
    topics (and their ids, v13+) and whether each partition's aborted transactions are null or empty; the
    partitions' numbers and positions are slots."""
    ids = plan.ids if ctx.api_version >= 13 else None
    shape = (ctx.api_version, tuple((r[0], ids.get(r[0]) if ids else None, r[7] is None) for r in rows))
    lead = (I32,) if ctx.api_version >= 7 else ()  # the session id (fetch sessions: v7+)
    values = [session_id] if lead else []
    for r in rows:
        values += (r[1], r[3], r[4], r[5])

    def encode(ints, blobs) -> bytes:
        n = len(lead)
        return build([(r[0], ints[n + 4 * i], r[2], ints[n + 1 + 4 * i], ints[n + 2 + 4 * i], ints[n + 3 + 4 * i],
                       blobs[i], r[7], None) for i, r in enumerate(rows)], ints[0] if n else 0)

    return templates.render_blobs(shape, encode, ctx.correlation_id, values, (*lead, *_PARTITION * len(rows)),
                                  [r[6] for r in rows], _compact_prefix if ctx.header.flexible else _legacy_prefix)


class _Length:
    """What kio's bytes writer is given to learn the length it writes before n bytes (it writes them after)."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


class _Prefix:
    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out = b""

    def write(self, data: bytes | _Length) -> None:
        if data.__class__ is not _Length:
            self.out += data  # type: ignore[operator]


def _compact_prefix(n: int) -> bytes:
    buf = _Prefix()
    writers.write_nullable_compact_string(buf, _Length(n))  # type: ignore[arg-type]
    return buf.out


def _legacy_prefix(n: int) -> bytes:
    buf = _Prefix()
    writers.write_nullable_legacy_bytes(buf, _Length(n))  # type: ignore[arg-type]
    return buf.out
