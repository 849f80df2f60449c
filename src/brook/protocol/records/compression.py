"""Record-batch codecs (attributes bits 0-2): gzip, snappy (raw or xerial-framed, as Java writes it), lz4 frame,
zstd. The broker only needs them when it must look inside a batch (compacted topics, tools)."""

from __future__ import annotations

import struct
import zlib

NONE, GZIP, SNAPPY, LZ4, ZSTD = 0, 1, 2, 3, 4
_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = 16


def _snappy(data: bytes) -> bytes:
    import cramjam  # loaded by the first snappy batch: a broker that never sees one is a megabyte smaller

    if data[:8] != _XERIAL_MAGIC:
        return bytes(cramjam.snappy.decompress_raw(data))
    out = []
    pos = _XERIAL_HEADER
    while pos + 4 <= len(data):
        (n,) = struct.unpack_from(">i", data, pos)
        pos += 4
        out.append(bytes(cramjam.snappy.decompress_raw(data[pos : pos + n])))
        pos += n
    return b"".join(out)


def decompress(codec: int, data: bytes) -> bytes:
    if codec == NONE:
        return data
    if codec == GZIP:
        return zlib.decompress(data, 47)  # 32 + 15: gzip or zlib header
    if codec == SNAPPY:
        return _snappy(data)
    if codec == LZ4:
        import lz4.frame

        return lz4.frame.decompress(data)
    if codec == ZSTD:
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    raise ValueError(f"unknown compression codec {codec}")


def compress(codec: int, data: bytes) -> bytes:
    if codec == NONE:
        return data
    if codec == GZIP:
        c = zlib.compressobj(wbits=31)
        return c.compress(data) + c.flush()
    if codec == SNAPPY:
        import cramjam

        return bytes(cramjam.snappy.compress_raw(data))
    if codec == LZ4:
        import lz4.frame

        return lz4.frame.compress(data)
    if codec == ZSTD:
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    raise ValueError(f"unknown compression codec {codec}")
