"""The length guard's generated walk (guard.compiled_check) against the plain walk it is generated from (guard._entity):
the same end position, LengthError message or kio error on real clients' requests (tests/protocol/golden) and on
thousands of mutations and truncations of them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from brook.protocol import guard
from brook.protocol.header import decode_header, peek_key_version
from brook.protocol.versions import request_class

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.bin"))


def _outcome(walk, buf: bytes, offset: int) -> tuple:  # noqa: ANN001
    try:
        return ("end", walk(buf, offset, len(buf)))
    except guard.LengthError as e:
        return ("LengthError", str(e))
    except Exception as e:  # noqa: BLE001 - kio's reader errors for truncated bytes: the same type either way
        return (type(e).__name__, str(e))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_the_generated_walk_agrees_with_the_plain_walk(path: Path) -> None:
    frame = path.read_bytes()
    key, version = peek_key_version(frame)
    cls = request_class(key, version)
    _, offset = decode_header(frame, cls.__flexible__)
    plan, compiled = guard._plan(cls), guard.compiled_check(cls)
    assert compiled is not None

    def plain(buf: bytes, pos: int, end: int) -> int:
        return guard._entity(plan, buf, pos, end)

    assert _outcome(compiled, frame, offset) == _outcome(plain, frame, offset) == ("end", len(frame))
    rnd = random.Random(path.stem)
    for _ in range(500 if len(frame) > offset else 0):
        b = bytearray(frame)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(offset, len(b))] = rnd.choice([0, 0xFF, 0x7F, 0x80, rnd.getrandbits(8)])
        if rnd.random() < 0.3:
            del b[rnd.randrange(offset, len(b) + 1):]
        mutated = bytes(b)
        assert _outcome(compiled, mutated, offset) == _outcome(plain, mutated, offset), mutated.hex()
