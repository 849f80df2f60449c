"""kafka-replica-verification: checks that every replica of the chosen topics holds the same batches, as Kafka
3.9's ReplicaVerificationTool. It fetches each partition from every broker holding a replica (Fetch as the
debugging consumer, replica id -2, so followers answer too), walks the replicas' batches in step up to the high
watermark, reports a batch whose offset or checksum differs, and every --report-interval-ms the largest lag
between the verified offset and the high watermark. It runs until stopped (Ctrl-C). Topics and replicas come from
confluent-kafka's AdminClient, the start offsets from its consumer; the Fetch requests go through kafka_rpc."""

from __future__ import annotations

import datetime
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from brook.cli.options import (
    OptionParser,
    check_invalid_args,
    check_required_args,
    entry_point,
    log,
    print_usage_and_exit,
    print_version_and_exit,
)

LOGGER = "org.apache.kafka.tools.ReplicaVerificationTool"
DEBUGGING_CONSUMER_ID = -2
TopicPartition = tuple[str, int]


def stamp(now: float | None = None) -> str:
    """SimpleDateFormat("yyyy-MM-dd HH:mm:ss,SSS")."""
    now = time.time() if now is None else now
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now * 1000) % 1000:03d}"


class Options:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.broker_list = p.accepts("broker-list", "REQUIRED: The list of hostname and port of the server to connect "
                                     "to.", arg="required", described_as="hostname:port,...,hostname:port")
        self.fetch_size = p.accepts("fetch-size", "The fetch size of each request.", arg="required", type="Integer",
                                    described_as="bytes", default=("1048576",))
        self.max_wait_ms = p.accepts("max-wait-ms", "The max amount of time each fetch request waits.",
                                     arg="required", type="Integer", described_as="ms", default=("1000",))
        self.topic_white_list = p.accepts("topic-white-list", "DEPRECATED use --topics-include instead; ignored if "
                                          "--topics-include specified. List of topics to verify replica "
                                          "consistency.", arg="required", described_as="Java regex (String)",
                                          default=(".*",))
        self.topics_include = p.accepts("topics-include", "List of topics to verify replica consistency.",
                                        arg="required", described_as="Java regex (String)", default=(".*",))
        self.time = p.accepts("time", "Timestamp for getting the initial offsets.", arg="required", type="Long",
                              described_as="timestamp/-1(latest)/-2(earliest)", default=("-1",))
        self.report_interval_ms = p.accepts("report-interval-ms", "The reporting interval.", arg="required",
                                            type="Long", described_as="ms", default=("30000",))
        self.opts = p.parse(args)
        if not args or self.opts.has(p.help):
            print_usage_and_exit(p, "Validate that all replicas for a set of topics have the same data.")
        if self.opts.has(p.version):
            print_version_and_exit()
        check_required_args(p, self.opts, self.broker_list)
        check_invalid_args(p, self.opts, self.topics_include, [self.topic_white_list])

    def topics_regex(self) -> re.Pattern[str]:
        spec = self.topics_include if self.opts.has(self.topics_include) else self.topic_white_list
        regex = str(self.opts.value_of(spec))
        try:
            return re.compile(regex.replace(",", "|"))  # TopicFilter.IncludeList: commas separate alternatives
        except re.error:
            raise RuntimeError(f"{regex} is an invalid regex") from None


class ReplicaBuffer:
    """What the replicas answered in one round, verified batch by batch (ReplicaBuffer.verifyCheckSum)."""

    def __init__(self, expected: dict[TopicPartition, int], offsets: dict[TopicPartition, int],
                 report_interval_ms: int) -> None:
        self.expected = expected
        self.offsets = offsets
        self.report_interval_ms = report_interval_ms
        self.fetched: dict[TopicPartition, dict[int, tuple[int, bytes]]] = {tp: {} for tp in expected}
        self.last_report = time.time()

    def add(self, tp: TopicPartition, replica: int, high_watermark: int, records: bytes) -> None:
        self.fetched[tp][replica] = (high_watermark, records)

    def verify(self) -> bool:
        """False when replicas disagree on an offset (the tool then exits 1)."""
        from brook.protocol.records.batch import iter_batch_positions, read_header

        max_lag, lag_offset, lag_tp = -1, -1, None
        for tp in sorted(self.fetched):
            answers = self.fetched[tp]
            batches = {r: iter(list(iter_batch_positions(records))) for r, (_, records) in answers.items()}
            max_hw = max((hw for hw, _ in answers.values()), default=-1)
            in_all = bool(answers)
            while in_all:
                first: tuple[int, int, int, int] | None = None  # replica, last offset, next offset, crc
                for replica, it in sorted(batches.items()):
                    found = next(it, None)
                    if found is None:
                        in_all = False
                        continue
                    h = read_header(answers[replica][1], found[0])
                    if h.last_offset >= answers[replica][0]:  # only verify up to the high watermark
                        in_all = False
                    elif first is None:
                        first = (replica, h.last_offset, h.next_offset, h.crc & 0xFFFFFFFF)
                    elif first[1] != h.last_offset:
                        print(f"{stamp()}: partition {tp[0]}-{tp[1]}: replica {first[0]}'s offset {first[1]} doesn't "
                              f"match replica {replica}'s offset {h.last_offset}", flush=True)
                        return False
                    elif first[3] != h.crc & 0xFFFFFFFF:
                        print(f"{stamp()}: partition {tp[0]}-{tp[1]} has unmatched checksum at offset "
                              f"{h.last_offset}; replica {first[0]}'s checksum {first[3]}; replica {replica}'s "
                              f"checksum {h.crc & 0xFFFFFFFF}", flush=True)
                if in_all:
                    self.offsets[tp] = first[2] if first is not None else -1
            if max_hw - self.offsets[tp] > max_lag:
                lag_offset = self.offsets[tp]
                max_lag, lag_tp = max_hw - lag_offset, tp
            answers.clear()
        now = time.time()
        if (now - self.last_report) * 1000 > self.report_interval_ms:
            where = "null" if lag_tp is None else f"{lag_tp[0]}-{lag_tp[1]}"
            print(f"{stamp(now)}: max lag is {max_lag} for partition {where} at offset {lag_offset} among "
                  f"{len(self.fetched)} partitions", flush=True)
            self.last_report = now
        return True


def fetch(conn: Any, partitions: list[TopicPartition], buffer: ReplicaBuffer, broker_id: int, fetch_size: int,
          max_wait_ms: int) -> None:
    """One Fetch as the debugging consumer; a partition's error counts as an empty answer, as Kafka's fetcher."""
    from kio.schema.fetch.v12.request import FetchPartition, FetchRequest, FetchTopic
    from kio.schema.fetch.v12.response import FetchResponse
    from kio.schema.types import BrokerId, TopicName
    from kio.static.primitive import i8, i32, i32Timedelta, i64

    from brook.cli.kafka_rpc import call

    by_topic: dict[str, list[int]] = {}
    for t, p in partitions:
        by_topic.setdefault(t, []).append(p)
    request = FetchRequest(
        replica_id=BrokerId(DEBUGGING_CONSUMER_ID), max_wait=i32Timedelta.parse(datetime.timedelta(
            milliseconds=max_wait_ms)), min_bytes=i32(1), max_bytes=i32(fetch_size * max(1, len(partitions))),
        isolation_level=i8(0), session_id=i32(0), session_epoch=i32(-1), forgotten_topics_data=(), rack_id="",
        topics=tuple(FetchTopic(topic=TopicName(t), partitions=tuple(
            FetchPartition(partition=i32(p), current_leader_epoch=i32(-1), fetch_offset=i64(buffer.offsets[(t, p)]),
                           last_fetched_epoch=i32(-1), log_start_offset=i64(-1), partition_max_bytes=i32(fetch_size))
            for p in ps)) for t, ps in by_topic.items()))
    conn.deadline = time.monotonic() + max_wait_ms / 1000 + 30  # each round's own bound
    response = call(conn, request, FetchResponse, "fetch")
    answered = set()
    for topic in response.responses:
        for part in topic.partitions:
            tp = (str(topic.topic), int(part.partition_index))
            if tp in buffer.fetched:
                records = bytes(part.records or b"") if not part.error_code else b""
                buffer.add(tp, broker_id, int(part.high_watermark) if not part.error_code else -1, records)
                answered.add(tp)
    for tp in partitions:
        if tp not in answered:
            buffer.add(tp, broker_id, -1, b"")


def run(o: Options) -> int:
    from confluent_kafka import Consumer
    from confluent_kafka import TopicPartition as CkTopicPartition

    from brook.cli.clients import admin_client
    from brook.cli.kafka_rpc import connect

    log("WARN", "This tool is deprecated and may be removed in a future major release.", LOGGER)
    brokers = str(o.opts.value_of(o.broker_list))
    admin = admin_client(brokers, {})
    metadata = admin.list_topics(timeout=30)
    pattern = o.topics_regex()
    topics = {name: t for name, t in metadata.topics.items() if pattern.fullmatch(name)}
    if not topics:
        log("ERROR", f"No topics found. {o.topics_include} if specified, is either filtering out all topics or "
            "there is no topic.", LOGGER)
        return 1
    replicas: dict[int, list[TopicPartition]] = {}
    expected: dict[TopicPartition, int] = {}
    for name, t in topics.items():
        for p in t.partitions.values():
            expected[(name, p.id)] = len(p.replicas)
            for r in p.replicas:
                replicas.setdefault(r, []).append((name, p.id))
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "ReplicaVerification", "log_level": 0})
    start = int(o.opts.value_of(o.time))
    offsets: dict[TopicPartition, int] = {}
    try:
        if start >= 0:
            found = consumer.offsets_for_times([CkTopicPartition(t, p, start) for t, p in expected], timeout=30)
            offsets = {(f.topic, f.partition): f.offset for f in found}
        else:
            for t, p in expected:
                low, high = consumer.get_watermark_offsets(CkTopicPartition(t, p), timeout=30)
                offsets[(t, p)] = high if start == -1 else low
    finally:
        consumer.close()
    buffer = ReplicaBuffer(expected, offsets, int(o.opts.value_of(o.report_interval_ms)))
    nodes = {b.id: b for b in metadata.brokers.values()}
    conns = {b: connect(nodes[b].host, nodes[b].port, time.monotonic() + 30, "fetch") for b in replicas if b in nodes}
    print(f"{stamp()}: verification process is started", flush=True)
    try:
        while True:
            for b, partitions in sorted(replicas.items()):
                if b in conns:
                    fetch(conns[b], partitions, buffer, b, int(o.opts.value_of(o.fetch_size)),
                          int(o.opts.value_of(o.max_wait_ms)))
                else:  # a replica on a broker that is down: its partitions wait until it returns
                    for tp in partitions:
                        buffer.add(tp, b, -1, b"")
            if not buffer.verify():
                return 1
    finally:
        for c in conns.values():
            c.close()


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    o = Options(sys.argv[1:] if argv is None else argv)
    try:
        return run(o)
    except Exception as e:  # ReplicaVerificationTool.main: the message on stderr (then Java's stack trace)
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
