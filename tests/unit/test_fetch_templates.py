"""Fetch responses from templates are byte for byte what kio encodes, for every version Brook answers, whatever the
records' sizes (their length prefixes change size), topics, sessions and null or empty aborted transactions."""

from __future__ import annotations

import random
import uuid
from types import SimpleNamespace

import pytest

from brook.broker.fetch_templates import templated
from brook.broker.handlers.fetch import _kio_response
from brook.errors import ErrorCode
from brook.protocol.header import RequestHeader, encode_response
from brook.protocol.templates import TemplateCache
from brook.protocol.versions import response_class


@pytest.mark.parametrize("version", [5, 7, 11, 12, 13, 16, 17])
def test_templated_fetch_responses_equal_kio_encoding(version: int) -> None:
    rng = random.Random(version)
    cache = TemplateCache()
    cls = response_class(1, version)
    ids = {"orders": uuid.UUID(int=rng.getrandbits(128)), "payments": uuid.UUID(int=rng.getrandbits(128))}
    plan = SimpleNamespace(ids=ids)
    for correlation_id in range(60):
        header = RequestHeader(1, version, correlation_id, "c", version >= 12)
        ctx = SimpleNamespace(api_version=version, header=header, correlation_id=correlation_id)
        rows = []
        aborted = None if rng.random() < 0.5 else ()  # read_uncommitted: null; read_committed: none to list
        for name in ("orders", "payments")[: rng.randint(1, 2)]:
            for p in sorted(rng.sample(range(1000), rng.randint(1, 3))):
                size = rng.choice([0, 5, 126, 127, 128, 20_000, 300_000])
                rows.append((name, p, ErrorCode.none, rng.randrange(1 << 40), rng.randrange(1 << 40),
                             rng.randrange(1 << 20), rng.randbytes(size), aborted, None))
        session_id = rng.choice([0, rng.randrange(1 << 31)])
        def encode(rs, sid, ctx=ctx) -> bytes:  # noqa: ANN001
            return encode_response(ctx.header, _kio_response(None, ctx, cls, plan, rs, (), sid))  # type: ignore[arg-type]

        expected = encode(rows, session_id)
        assert templated(cache, ctx, plan, rows, session_id, encode) == expected  # type: ignore[arg-type]
