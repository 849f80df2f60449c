"""kafka-e2e-latency: Kafka 3.9's EndToEndLatency (tools): send one message at a time, synchronously, and time
until the consumer reads it back; progress every 1000 messages, then the average and percentiles.

Positional arguments as Kafka's: broker_list topic num_messages producer_acks message_size_bytes [properties_file].
Payloads are java.util.Random(0)'s, so each message is the same bytes Kafka's tool sends. The producer is
`clients.producer_config`'s, placing records with Kafka's murmur2 partitioner as every Brook producer does.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from brook.cli.java_collections import double_str
from brook.cli.options import TerseException, entry_point, load_props_nio, main_no_exit

POLL_TIMEOUT_MS = 60000
DEFAULT_NUM_PARTITIONS = 1
DEFAULT_REPLICATION_FACTOR = 1
USAGE = ("USAGE: java org.apache.kafka.tools.EndToEndLatency broker_list topic num_messages producer_acks "
         "message_size_bytes [optional] properties_file")


class JavaException(Exception):
    """An exception Kafka's tool lets through: its message, then (in Kafka) the stack trace, whose first line is
    `java_class: message`."""

    def __init__(self, java_class: str, message: str) -> None:
        super().__init__(message)
        self.java_class = java_class

    def java(self) -> str:
        return f"{self.java_class}: {self}"


class JavaRandom:
    """java.util.Random: the 48-bit linear congruential generator and nextInt(bound) as the JDK defines them."""

    _MULT, _MASK = 0x5DEECE66D, (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self.seed = (seed ^ self._MULT) & self._MASK

    def _next(self, bits: int) -> int:
        self.seed = (self.seed * self._MULT + 0xB) & self._MASK
        value = self.seed >> (48 - bits)
        return value - (1 << 32) if value >= 1 << 31 else value

    def next_int(self, bound: int) -> int:
        r = self._next(31)
        if bound & (bound - 1) == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + bound - 1 < 1 << 31:  # no int overflow: r is unbiased
                return r
            u = self._next(31)


def parse_int(text: str) -> int:
    """Integer.parseInt."""
    text_ok = text[1:] if text[:1] in "+-" and len(text) > 1 else text
    if text_ok.isascii() and text_ok.isdigit() and -(1 << 31) <= int(text) < 1 << 31:
        return int(text)
    raise JavaException("java.lang.NumberFormatException", f'For input string: "{text}"')


def java_fixed(value: float, places: int) -> str:
    """String.format("%.Nf"): the double's exact value rounded HALF_UP; NaN as Java prints it."""
    if value != value:
        return "NaN"
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def random_bytes(random: JavaRandom, length: int) -> bytes:
    if length < 0:
        raise JavaException("java.lang.NegativeArraySizeException", str(length))
    return bytes([random.next_int(26) + 65]) * length


def _clients(props: dict[str, str], brokers: str, acks: str) -> tuple[Any, Any]:
    from brook.cli.clients import librdkafka_config, new_client, producer_config

    base = {**librdkafka_config(props), "bootstrap.servers": brokers}
    consumer = new_client("consumer", {"isolation.level": "read_uncommitted", **base,
                                       "group.id": f"test-group-{int(time.time() * 1000)}",
                                       "enable.auto.commit": "false", "auto.offset.reset": "latest",
                                       "fetch.wait.max.ms": "0"},  # no temporal batching
                          "org.apache.kafka.clients.consumer.ConsumerConfig")
    producer = new_client("producer", {**producer_config({**props, "linger.ms": "0", "acks": acks}),
                                       "bootstrap.servers": brokers},  # murmur2, as every Brook producer
                          "org.apache.kafka.clients.producer.ProducerConfig")
    return consumer, producer


def _create_topic(props: dict[str, str], brokers: str, topic: str) -> None:
    from confluent_kafka.admin import NewTopic

    from brook.cli.clients import admin_client, api_timeout_s, from_kafka

    print(f'Topic "{topic}" does not exist. Will create topic with {DEFAULT_NUM_PARTITIONS} partition(s) and '
          f"replication factor = {DEFAULT_REPLICATION_FACTOR}")
    admin = admin_client(brokers, props)
    try:
        admin.create_topics([NewTopic(topic, DEFAULT_NUM_PARTITIONS, DEFAULT_REPLICATION_FACTOR)],
                            request_timeout=api_timeout_s(props))[topic].result()
    except Exception as e:
        print(f"Creation of topic {topic} failed")
        cause = from_kafka(e)
        raise JavaException("java.lang.RuntimeException", f"java.util.concurrent.ExecutionException: {cause.java()}") \
            from None


def _assign_at_end(consumer: Any, topic: str) -> None:
    """assign(partitionsFor(topic)) then seekToEnd and position(): the end offsets are resolved before the first
    send, so the consumer cannot start past the first message."""
    from confluent_kafka import TopicPartition

    metadata = consumer.list_topics(topic, timeout=POLL_TIMEOUT_MS / 1000)
    tps = [TopicPartition(topic, p) for p in sorted(metadata.topics[topic].partitions)]
    for tp in tps:
        tp.offset = consumer.get_watermark_offsets(tp, timeout=POLL_TIMEOUT_MS / 1000)[1]
    consumer.assign(tps)


def _send_sync(producer: Any, topic: str, message: bytes) -> None:
    """producer.send(record).get()."""
    from brook.cli.clients import from_kafka

    outcome: list[Any] = []
    producer.produce(topic, message, on_delivery=lambda err, _msg: outcome.append(err))
    while not outcome:
        producer.poll(0.1)
    if outcome[0] is not None:
        raise JavaException("java.util.concurrent.ExecutionException", from_kafka(outcome[0]).java())


def _commit(consumer: Any) -> None:
    from confluent_kafka import KafkaException

    try:
        consumer.commit(asynchronous=False)
    except KafkaException:  # nothing consumed: Java's commitSync() has nothing to send either
        pass


def _poll(consumer: Any) -> list[Any]:
    """consumer.poll(60 s): the first record (or none at the timeout), then whatever else is already fetched."""
    first = consumer.poll(POLL_TIMEOUT_MS / 1000)
    if first is None:
        return []
    records = [first, *consumer.consume(num_messages=500, timeout=0)]
    for r in records:
        if r.error() is not None:
            from brook.cli.clients import from_kafka

            raise JavaException(from_kafka(r.error()).java_class, str(from_kafka(r.error())))
    return records


def validate(consumer: Any, message: bytes, records: list[Any]) -> None:
    if not records:
        _commit(consumer)
        raise JavaException("java.lang.RuntimeException",
                            f"poll() timed out before finding a result (timeout:[{POLL_TIMEOUT_MS}])")
    sent, read = message.decode("utf-8", "replace"), (records[0].value() or b"").decode("utf-8", "replace")
    if read != sent:
        _commit(consumer)
        raise JavaException("java.lang.RuntimeException",
                            f"The message read [{read}] did not match the message sent [{sent}]")
    if len(records) != 1:
        _commit(consumer)
        raise JavaException("java.lang.RuntimeException",
                            f"Only one result was expected during this test. We found [{len(records)}]")


def print_results(num_messages: int, total_ns: float, latencies: list[int]) -> None:
    avg = total_ns / num_messages / 1000.0 / 1000.0 if num_messages else float("nan")
    print(f"Avg latency: {java_fixed(avg, 4)} ms")
    latencies.sort()
    n = len(latencies)
    if n == 0:
        raise JavaException("java.lang.ArrayIndexOutOfBoundsException", "Index 0 out of bounds for length 0")
    p50, p99, p999 = (latencies[int(n * q)] for q in (0.5, 0.99, 0.999))
    print(f"Percentiles: 50th = {p50}, 99th = {p99}, 99.9th = {p999}")


def execute(args: Sequence[str]) -> None:
    if len(args) not in (5, 6):
        raise TerseException(USAGE)
    brokers, topic = args[0], args[1]
    num_messages = parse_int(args[2])
    acks = args[3]
    message_size = parse_int(args[4])
    props_file = args[5] if len(args) > 5 and args[5].strip() else None
    if acks not in ("1", "all"):
        raise JavaException("java.lang.IllegalArgumentException",
                            "Latency testing requires synchronous acknowledgement. Please use 1 or all")
    props = load_props_nio(props_file) if props_file else {}
    consumer, producer = _clients(props, brokers, acks)
    try:
        if topic not in consumer.list_topics(timeout=POLL_TIMEOUT_MS / 1000).topics:
            _create_topic(props, brokers, topic)
        _assign_at_end(consumer, topic)
        if num_messages < 0:
            raise JavaException("java.lang.NegativeArraySizeException", str(num_messages))
        total_ns, latencies, random = 0.0, [], JavaRandom(0)
        for i in range(num_messages):
            message = random_bytes(random, message_size)
            begin = time.perf_counter_ns()
            _send_sync(producer, topic, message)
            records = _poll(consumer)
            elapsed = time.perf_counter_ns() - begin
            validate(consumer, message, records)
            if i % 1000 == 0:
                print(f"{i}\t{double_str(elapsed / 1000.0 / 1000.0)}", flush=True)
            total_ns += elapsed
            latencies.append(elapsed // 1000 // 1000)
        print_results(num_messages, total_ns, latencies)
        _commit(consumer)
    finally:
        consumer.close()
        producer.flush(1)


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    return main_no_exit(execute, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
