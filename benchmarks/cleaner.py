"""Brook's log cleaner: how fast it compacts, and what it costs producers while it runs.

    .venv/bin/python benchmarks/cleaner.py [--quick]

1. Cleaner throughput, in-process: a log of --mb MB (100-byte values over 10,000 keys, batches of 100 records),
   uncompressed and lz4, compacted by LogCleaner.clean_once(); MB/s of log read (and so compacted).
2. Produce throughput against a real broker process (confluent-kafka, acks=1, 100-byte values over 10,000 keys) into
   a compacted topic with small segments, with log.cleaner.enable=false and then =true (backoff 100 ms,
   min.cleanable.dirty.ratio 0.01, so the cleaner runs through the whole line); the cleaner's passes and MB/s
   during the line come from the broker's own log.

A benchmark, not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import datetime
import io
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crc32c import crc32c
from kio.records.schema import NewRecordBatch, Record
from kio.records.writers import write_new_batch

from brook.log.cleaner import CleanerConfig, LogCleaner
from brook.log.config import LogConfig
from brook.log.log import Log
from brook.protocol.records.batch import (
    ATTRIBUTES_OFFSET,
    CRC_OFFSET,
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    pack_header,
    read_header,
)
from brook.protocol.records.compression import LZ4, NONE, compress

STARTED = re.compile(r"started \(kafka\.server\.KafkaServer\) on PLAINTEXT://([^:\s]+):(\d+)")
CLEANED = re.compile(r"Cleaned log (\S+) up to offset \d+: ([\d.]+) MB read, [\d.]+ MB written in ([\d.]+) s")
KEYS = 10_000
_RNG = random.Random(7)
VALUES = [_RNG.randbytes(100) for _ in range(1000)]  # incompressible: a lz4 MB holds as many records as a plain one
VALUE = VALUES[0]
TOPIC = "bench-compacted"


class _Logs:
    def __init__(self, d: Path) -> None:
        self.dirs = [d]
        self.logs: dict[tuple[str, int], Log] = {}

    def dir_of(self, topic: str, partition: int) -> Path:
        return self.dirs[0]


def _batch(first: int, n: int, codec: int) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    buf = io.BytesIO()
    write_new_batch(buf, NewRecordBatch(producer_id=-1, producer_epoch=-1, base_sequence=-1, attributes=0,
                                        records=tuple(Record(attributes=0, timestamp=now, offset=i,
                                                             key=b"key-%d" % ((first + i) % KEYS),
                                                             value=VALUES[(first + i) % len(VALUES)],
                                                             headers=()) for i in range(n))))
    data = buf.getvalue()
    if codec == NONE:
        return data
    h = read_header(data)
    payload = compress(codec, data[HEADER_SIZE:])
    h2 = BatchHeader(h.base_offset, HEADER_SIZE - LOG_OVERHEAD + len(payload), h.partition_leader_epoch, 2, 0,
                     h.attributes | codec, h.last_offset_delta, h.base_timestamp, h.max_timestamp, -1, -1, -1,
                     h.records_count)
    out = bytearray(pack_header(h2) + payload)
    out[CRC_OFFSET:ATTRIBUTES_OFFSET] = crc32c(bytes(out[ATTRIBUTES_OFFSET:])).to_bytes(4, "big")
    return bytes(out)


def cleaner_throughput(mb: int, codec: int, workdir: Path) -> tuple[float, float, float]:
    """(MB of log, seconds, MB/s) of one full compaction pass."""
    d = workdir / f"clean-{codec}"
    logs = _Logs(d)
    lg = Log(d / "t-0", "t", 0, LogConfig(segment_bytes=8 << 20, cleanup_policy=("compact",),
                                          min_cleanable_dirty_ratio=0.01))
    logs.logs[("t", 0)] = lg
    # a pool of distinct batches reused round-robin: building each with kio would dominate the set-up time
    pool = [_batch(i * 100, 100, codec) for i in range(KEYS // 100)]
    i = 0
    while lg.size < mb << 20:
        data = pool[i % len(pool)]
        lg.append(data, read_header(data), 0, int(time.time() * 1000))
        i += 1
    lg.roll()
    lg.update_high_watermark(lg.log_end_offset)
    lg.flush()
    size = lg.size / 1e6
    cleaner = LogCleaner(logs, CleanerConfig(step_bytes=1 << 40))
    t = time.perf_counter()
    assert cleaner.clean_once()
    secs = time.perf_counter() - t
    lg.close()
    cleaner.close()
    return size, secs, size / secs


def _start_broker(data: Path, overrides: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    args = [sys.executable, "-m", "brook", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
            "--override", f"log.dirs={data}"]
    for k, v in overrides.items():
        args += ["--override", f"{k}={v}"]
    log_path = data.parent / f"{data.name}.log"
    out = open(log_path, "wb")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = STARTED.search(log_path.read_text(errors="replace"))
        if m:
            return proc, f"127.0.0.1:{m.group(2)}", log_path
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"broker did not start:\n{log_path.read_text(errors='replace')}")


def produce_line(count: int, cleaner: bool, workdir: Path) -> tuple[float, float, int, float, float, float]:
    """(msgs/s, MB/s, cleaner passes, cleaner MB/s, MB cleaned, share of the line the cleaner was busy) for one
    producer run."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    data = workdir / f"broker-{'on' if cleaner else 'off'}"
    proc, bootstrap, log_path = _start_broker(data, {"log.cleaner.enable": str(cleaner).lower(),
                                                     "log.cleaner.backoff.ms": "100"})
    try:
        a = AdminClient({"bootstrap.servers": bootstrap})
        config = {"cleanup.policy": "compact", "segment.bytes": str(1 << 20), "min.cleanable.dirty.ratio": "0.01"}
        for f in a.create_topics([NewTopic(TOPIC, 1, 1, config=config)], operation_timeout=10).values():
            f.result(timeout=30)
        p = Producer({"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": 5, "batch.size": 65536,
                      "queue.buffering.max.messages": 500_000})
        keys = [b"key-%d" % k for k in range(KEYS)]
        t = time.perf_counter()
        for i in range(count):
            while True:
                try:
                    p.produce(TOPIC, key=keys[i % KEYS], value=VALUE, partition=0)
                    break
                except BufferError:
                    p.poll(0.01)
        assert p.flush(60) == 0
        secs = time.perf_counter() - t
        text = log_path.read_text(errors="replace")
        passes = [(float(mb), float(s)) for tp, mb, s in CLEANED.findall(text) if tp.startswith(TOPIC)]
        mb_clean = sum(mb for mb, _ in passes)
        secs_clean = sum(s for _, s in passes)
        return count / secs, count * (len(VALUE) + 9) / secs / 1e6, len(passes), \
            (mb_clean / secs_clean if secs_clean else 0.0), mb_clean, min(secs_clean / secs, 1.0)
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the sizes: a smoke run")
    ap.add_argument("--mb", type=int, default=64, help="log size for the in-process cleaner line")
    ap.add_argument("--count", type=int, default=1_000_000, help="messages per produce line")
    args = ap.parse_args()
    mb = max(4, args.mb // 10) if args.quick else args.mb
    count = args.count // 10 if args.quick else args.count
    workdir = Path(tempfile.mkdtemp(prefix="brook-cleaner-bench-"))
    try:
        print(f"{'line':<58} {'result':>40}")
        for codec, name in ((NONE, "uncompressed"), (LZ4, "lz4")):
            size, secs, rate = cleaner_throughput(mb, codec, workdir)
            print(f"{'cleaner: one pass over ' + f'{size:.0f} MB ' + name + ', 10k keys':<58} "
                  f"{f'{rate:.1f} MB/s ({secs:.2f} s)':>40}")
        base = produce_line(count, False, workdir)
        busy = produce_line(count, True, workdir)
        print(f"{f'produce {count} x 100 B, compacted topic, cleaner off':<58} "
              f"{f'{base[0]:,.0f} msgs/s, {base[1]:.1f} MB/s':>40}")
        print(f"{f'produce {count} x 100 B, compacted topic, cleaner on':<58} "
              f"{f'{busy[0]:,.0f} msgs/s, {busy[1]:.1f} MB/s ({busy[0] / base[0]:.0%})':>40}")
        print(f"{'cleaner during that line':<58} "
              f"{f'{busy[2]} passes, {busy[4]:.0f} MB at {busy[3]:.1f} MB/s, busy {busy[5]:.0%}':>40}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
