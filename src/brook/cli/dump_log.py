"""kafka-dump-log: print the batches and records of .log segments and the entries of .index / .timeindex files, as
Kafka's DumpLogSegments (core, Kafka 3.9). Reads the files directly (Brook's segments are Kafka's format); batches
are parsed with brook.protocol.records."""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Sequence

from brook.cli.options import (
    OptionParser,
    check_required_args,
    entry_point,
    maybe_print_help_or_version,
)

INT_MAX = 2**31 - 1
DELETE_HORIZON_FLAG = 0x40
STRING_DECODERS = {"org.apache.kafka.tools.api.StringDecoder", "kafka.serializer.StringDecoder"}
_DEPRECATED = {"kafka.serializer.StringDecoder": "StringDecoder", "kafka.serializer.LongDecoder": "LongDecoder",
               "kafka.serializer.IntegerDecoder": "IntegerDecoder", "kafka.serializer.DefaultDecoder": "DefaultDecoder"}


class DumpLogSegmentsOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.print_data = p.accepts("print-data-log", "If set, printing the messages content when dumping data logs. "
                                    "Automatically set if any decoder option is specified.")
        self.verify = p.accepts("verify-index-only", "If set, just verify the index log without printing its "
                                "content.")
        self.index_sanity = p.accepts("index-sanity-check", "If set, just checks the index sanity without printing "
                                      "its content. This is the same check that is executed on broker startup to "
                                      "determine if an index needs rebuilding or not.")
        self.files = p.accepts("files", "REQUIRED: The comma separated list of data and index log files to be "
                               "dumped.", arg="required", described_as="file1, file2, ...")
        self.max_message_size = p.accepts("max-message-size", "Size of largest message.", arg="required",
                                          type="Integer", described_as="size", default=(str(5 * 1024 * 1024),))
        self.max_bytes = p.accepts("max-bytes", "Limit the amount of total batches read in bytes avoiding reading the "
                                   "whole .log file(s).", arg="required", type="Integer", described_as="size",
                                   default=(str(INT_MAX),))
        self.deep = p.accepts("deep-iteration", "If set, uses deep instead of shallow iteration. Automatically set if "
                              "print-data-log is enabled.")
        self.value_decoder = p.accepts(
            "value-decoder-class", "If set, used to deserialize the messages. This class should implement "
            "org.apache.kafka.tools.api.Decoder trait. Custom jar should be available in kafka/libs directory.",
            arg="optional", default=("org.apache.kafka.tools.api.StringDecoder",))
        self.key_decoder = p.accepts(
            "key-decoder-class", "If set, used to deserialize the keys. This class should implement "
            "org.apache.kafka.tools.api.Decoder trait. Custom jar should be available in kafka/libs directory.",
            arg="optional", default=("org.apache.kafka.tools.api.StringDecoder",))
        self.offsets = p.accepts("offsets-decoder", "If set, log data will be parsed as offset data from the "
                                 "__consumer_offsets topic.")
        self.txn_log = p.accepts("transaction-log-decoder", "If set, log data will be parsed as transaction metadata "
                                 "from the __transaction_state topic.")
        self.cluster_metadata = p.accepts("cluster-metadata-decoder", "If set, log data will be parsed as cluster "
                                          "metadata records.")
        self.remote_metadata = p.accepts(
            "remote-log-metadata-decoder", "If set, log data will be parsed as TopicBasedRemoteLogMetadataManager "
            "(RLMM) metadata records. Instead, the value-decoder-class option can be used if a custom RLMM "
            "implementation is configured.")
        self.skip_metadata = p.accepts("skip-record-metadata", "Whether to skip printing metadata for each record.")
        self.opts = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool helps to parse a log file and dump its contents to the "
                                    "console, useful for debugging a seemingly corrupt log segment.")
        check_required_args(p, self.opts, self.files)
        o = self.opts
        decoders = (self.offsets, self.txn_log, self.cluster_metadata, self.remote_metadata)
        self.print_data_log = o.has(self.print_data) or any(o.has(d) for d in decoders) \
            or o.has(self.value_decoder) or o.has(self.key_decoder)
        self.deep_iteration = o.has(self.deep) or self.print_data_log
        # DumpLogSegmentsOptions.messageParser: the first decoder option set wins, in this order
        self.message_parser = next((d.name for d in decoders if o.has(d)), None)
        unsupported = (self.cluster_metadata.name, self.remote_metadata.name)
        self.unsupported = self.message_parser if self.message_parser in unsupported else None


def parse_records(data: bytes, count: int) -> list[dict]:
    """DefaultRecord.readFrom for each record of a decompressed batch body."""
    from brook.protocol.records.records import read_varint

    out, pos = [], 0
    for _ in range(count):
        length, pos = read_varint(data, pos)
        end = pos + length
        pos += 1  # attributes
        ts_delta, pos = read_varint(data, pos)
        offset_delta, pos = read_varint(data, pos)
        key_len, pos = read_varint(data, pos)
        key = None if key_len < 0 else data[pos:pos + key_len]
        pos += max(key_len, 0)
        value_len, pos = read_varint(data, pos)
        value = None if value_len < 0 else data[pos:pos + value_len]
        pos += max(value_len, 0)
        n_headers, pos = read_varint(data, pos)
        header_keys = []
        for _ in range(n_headers):
            hk_len, pos = read_varint(data, pos)
            header_keys.append(data[pos:pos + hk_len].decode("utf-8", "replace"))
            pos += hk_len
            hv_len, pos = read_varint(data, pos)
            pos += max(hv_len, 0)
        out.append({"ts_delta": ts_delta, "offset_delta": offset_delta, "key": key, "value": value,
                    "header_keys": header_keys})
        pos = end
    return out


def _sequence(base: int, delta: int) -> int:
    """DefaultRecordBatch.incrementSequence; -1 (no sequence) stays -1."""
    if base == -1:
        return -1
    return delta - (INT_MAX - base) - 1 if base > INT_MAX - delta else base + delta


def _decode(cls: str, data: bytes | None) -> str | None:
    if data is None:
        return None
    if cls in ("org.apache.kafka.tools.api.LongDecoder", "kafka.serializer.LongDecoder") and len(data) == 8:
        return str(struct.unpack(">q", data)[0])
    if cls in ("org.apache.kafka.tools.api.IntegerDecoder", "kafka.serializer.IntegerDecoder") and len(data) == 4:
        return str(struct.unpack(">i", data)[0])
    if cls in ("org.apache.kafka.tools.api.DefaultDecoder", "kafka.serializer.DefaultDecoder"):
        return "[B@" + format(id(data) & 0xFFFFFFF, "x")  # a byte[]'s toString
    return data.decode("utf-8", "replace")


def _parse(o: DumpLogSegmentsOptions, offset: int, key: bytes | None, value: bytes | None, key_cls: str,
           value_cls: str) -> tuple[str | None, str | None]:
    """MessageParser.parse: the key and payload texts (None: not printed)."""
    if o.message_parser == o.offsets.name:
        from brook.cli.coordinator_decoders import parse_offsets_record

        return parse_offsets_record(offset, key, value)
    if o.message_parser == o.txn_log.name:
        from brook.cli.coordinator_decoders import parse_txn_record

        return parse_txn_record(key, value)
    return _decode(key_cls, key), _decode(value_cls, value)


def iter_batches(buf: bytes, limit: int):  # noqa: ANN201 - (position, header) pairs
    from brook.protocol.records.batch import LOG_OVERHEAD, read_header

    pos = 0
    end = min(len(buf), limit)
    while pos + LOG_OVERHEAD <= end:
        length = struct.unpack_from(">i", buf, pos + 8)[0]
        if length < 0 or pos + LOG_OVERHEAD + length > end or pos + 61 > end:
            break
        yield pos, read_header(buf, pos)
        pos += LOG_OVERHEAD + length


def dump_log(path: str, o: DumpLogSegmentsOptions, non_consecutive: dict[str, list[tuple[int, int]]]) -> None:
    from brook.protocol.records.batch import HEADER_SIZE, crc_ok
    from brook.protocol.records.compression import decompress

    name = os.path.basename(path)
    print(f"Log starting offset: {int(name.split('.')[0])}")
    with open(path, "rb") as f:
        buf = f.read()
    opts = o.opts
    limit = opts.value_of(o.max_bytes)
    key_cls, value_cls = opts.value_of(o.key_decoder), opts.value_of(o.value_decoder)
    skip_metadata = opts.has(o.skip_metadata)
    valid_bytes, last_offset = 0, -1
    for pos, h in iter_batches(buf, limit):
        ts_type = "LogAppendTime" if h.log_append_time else "CreateTime"
        horizon = f"OptionalLong[{h.base_timestamp}]" if h.attributes & DELETE_HORIZON_FLAG else "OptionalLong.empty"
        print(f"baseOffset: {h.base_offset} lastOffset: {h.last_offset} count: {h.records_count} "
              f"baseSequence: {h.base_sequence} lastSequence: {_sequence(h.base_sequence, h.last_offset_delta)} "
              f"producerId: {h.producer_id} producerEpoch: {h.producer_epoch} "
              f"partitionLeaderEpoch: {h.partition_leader_epoch} isTransactional: {str(h.is_transactional).lower()} "
              f"isControl: {str(h.is_control).lower()} deleteHorizonMs: {horizon} position: {valid_bytes} "
              f"{ts_type}: {h.max_timestamp} size: {h.size} magic: {h.magic} compresscodec: {h.compression} "
              f"crc: {h.crc} isvalid: {str(crc_ok(buf, pos, h.size, h.crc)).lower()}")
        if o.deep_iteration:
            data = decompress(h.attributes & 0x07, buf[pos + HEADER_SIZE:pos + h.size])
            for r in parse_records(data, h.records_count):
                offset = h.base_offset + r["offset_delta"]
                if last_offset != -1 and offset != last_offset + 1:
                    non_consecutive.setdefault(os.path.abspath(path), []).insert(0, (last_offset, offset))
                last_offset = offset
                prefix, line = "| ", ""
                if not skip_metadata:
                    ts = h.max_timestamp if h.log_append_time else h.base_timestamp + r["ts_delta"]
                    key_size = -1 if r["key"] is None else len(r["key"])
                    value_size = -1 if r["value"] is None else len(r["value"])
                    line += (f"{prefix}offset: {offset} {ts_type}: {ts} keySize: {key_size} valueSize: {value_size}"
                             f" sequence: {_sequence(h.base_sequence, r['offset_delta'])} headerKeys: "
                             f"[{','.join(r['header_keys'])}]")
                    prefix = " "
                    if h.is_control and r["key"] is not None and len(r["key"]) >= 4:
                        type_id = struct.unpack_from(">h", r["key"], 2)[0]
                        if type_id in (0, 1) and r["value"] is not None and len(r["value"]) >= 6:
                            epoch = struct.unpack_from(">i", r["value"], 2)[0]
                            line += f" endTxnMarker: {'COMMIT' if type_id else 'ABORT'} coordinatorEpoch: {epoch}"
                        else:
                            line += f" controlType: UNKNOWN({type_id})"
                if o.print_data_log and not h.is_control:
                    try:
                        key, payload = _parse(o, offset, r["key"], r["value"], key_cls, value_cls)
                    except Exception:
                        print(line, end="", flush=True)  # Kafka printed the record's metadata before it failed
                        raise
                    if key is not None:
                        line += f"{prefix}key: {key}"
                    if payload is not None:
                        line += f" payload: {payload}"
                print(line)
        valid_bytes += h.size
    trailing = min(len(buf), limit) - valid_bytes if limit == INT_MAX else 0
    if trailing > 0:
        print(f"Found {trailing} invalid bytes at the end of {name}")


def _sibling(path: str, suffix: str) -> str:
    name = os.path.basename(path)
    return os.path.join(os.path.dirname(os.path.abspath(path)), name.split(".")[0] + suffix)


def _entries(path: str, size: int) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    return data[:len(data) // size * size]


def dump_index(path: str, o: DumpLogSegmentsOptions, mismatches: dict[str, list[tuple[int, int]]]) -> None:
    base = int(os.path.basename(path).split(".")[0])
    data = _entries(path, 8)
    if not data:
        print(f"{path} is empty.")
        return
    if o.opts.has(o.index_sanity):
        print(f"{path} passed sanity check.")
        return
    with open(_sibling(path, ".log"), "rb") as f:
        log = f.read()
    for i in range(len(data) // 8):
        rel, position = struct.unpack_from(">ii", data, i * 8)
        if rel == 0 and i > 0:  # a preallocated, unused entry
            return
        offset = base + rel
        first = next(iter_batches(log[position:], o.opts.value_of(o.max_message_size)), None)
        if first is not None and first[1].last_offset != offset:
            mismatches.setdefault(os.path.abspath(path), []).insert(0, (offset, first[1].last_offset))
        if not o.opts.has(o.verify):
            print(f"offset: {offset} position: {position}")


def dump_time_index(path: str, o: DumpLogSegmentsOptions) -> None:
    base = int(os.path.basename(path).split(".")[0])
    if o.opts.has(o.index_sanity):
        print(f"{path} passed sanity check.")
        return
    data = _entries(path, 12)
    for i in range(len(data) // 12):
        timestamp, rel = struct.unpack_from(">qi", data, i * 12)
        if rel == 0 and i > 0:
            return
        if not o.opts.has(o.verify):
            print(f"timestamp: {timestamp} offset: {base + rel}")


def execute(args: Sequence[str]) -> int:
    o = DumpLogSegmentsOptions(args)
    if o.unsupported:
        print(f"Error: --{o.unsupported} is not supported by Brook's kafka-dump-log", file=sys.stderr)
        return 1
    for spec in (o.value_decoder, o.key_decoder):  # DumpLogSegments.convertDeprecatedDecoderClass
        cls = o.opts.value_of(spec)
        if cls in _DEPRECATED:
            print(f"{cls} is deprecated. Please use org.apache.kafka.tools.api.{_DEPRECATED[cls]} instead")
    mismatches: dict[str, list[tuple[int, int]]] = {}
    non_consecutive: dict[str, list[tuple[int, int]]] = {}
    for path in o.opts.value_of(o.files).split(","):
        print(f"Dumping {path}")
        name = os.path.basename(path)
        suffix = name[name.rfind("."):] if "." in name else name
        if suffix == ".log":
            dump_log(path, o, non_consecutive)
        elif suffix == ".index":
            dump_index(path, o, mismatches)
        elif suffix == ".timeindex":
            dump_time_index(path, o)
        else:
            print(f"Ignoring unknown file {path}", file=sys.stderr)
    for name, pairs in mismatches.items():
        print(f"Mismatches in :{name}", file=sys.stderr)
        for index_offset, log_offset in pairs:
            print(f"  Index offset: {index_offset}, log offset: {log_offset}", file=sys.stderr)
    for name, pairs in non_consecutive.items():
        print(f"Non-consecutive offsets in {name}", file=sys.stderr)
        for first, second in pairs:
            print(f"  {first} is followed by {second}", file=sys.stderr)
    return 0


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        return execute(sys.argv[1:] if argv is None else argv)
    except OSError as e:  # java.nio.file.NoSuchFileException and friends, as the uncaught exception's first line
        print(f"Exception in thread \"main\" java.nio.file.NoSuchFileException: {e.filename}", file=sys.stderr)
        return 1
    except Exception as e:  # an uncaught exception: the JVM prints it and exits 1
        print(f"Exception in thread \"main\" {e.java() if hasattr(e, 'java') else e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
