"""Produce responses from templates are byte for byte what kio encodes, for every version and for requests that
name changing subsets of many partitions (the partition indexes are template slots, not part of the shape)."""

from __future__ import annotations

import random

import pytest
from request_contexts import request_context

from brook.broker.handlers.produce import _response, templated
from brook.broker.replica_manager import ProduceResult
from brook.errors import ErrorCode
from brook.protocol.header import RequestHeader, encode_response
from brook.protocol.templates import TemplateCache


@pytest.mark.parametrize("version", [3, 7, 8, 9, 11])
def test_templated_produce_responses_equal_kio_encoding(version: int) -> None:
    rng = random.Random(version)
    cache = TemplateCache()
    for correlation_id in range(60):
        header = RequestHeader(0, version, correlation_id, "c", version >= 9)
        ctx = request_context(header)
        results = []
        for name in ("orders", "payments")[: rng.randint(1, 2)]:
            indexes = sorted(rng.sample(range(1000), rng.randint(1, 4)))
            results.append((name, [(i, ProduceResult(ErrorCode.none, rng.randrange(1 << 40), -1,
                                                     rng.randrange(1 << 20))) for i in indexes]))
        expected = encode_response(header, _response(ctx, results, None))
        # before v5 there is no log start offset to patch: those versions are encoded by kio each time
        assert templated(cache, ctx, results) == (expected if version >= 5 else None)
    assert len(cache._shapes) <= 4 + 4 * 4  # one per (topics, partition counts), not one per request
