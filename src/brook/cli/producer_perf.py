"""kafka-producer-perf-test: producer throughput and latency, as Kafka 3.9's ProducerPerformance (tools), with a
confluent-kafka Producer built by clients.producer_config (Kafka's partitioning) and argparse4j's command line."""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Sequence

from brook.cli.argparse4j import Parser
from brook.cli.options import entry_point, load_props


def arg_parser() -> Parser:
    p = Parser("producer-performance", "This tool is used to verify the producer performance.", default_help=True)
    payload = p.add_group("", "either --record-size or --payload-file must be specified but not both.", mutex=True,
                          required=True)
    p.add("--topic", required=True, metavar="TOPIC", help="produce messages to this topic")
    p.add("--num-records", required=True, type="Long", metavar="NUM-RECORDS", dest="numRecords",
          help="number of messages to produce")
    one_of = "Note that you must provide exactly one of --record-size or --payload-file or --payload-monotonic."
    p.add("--record-size", group=payload, type="Integer", metavar="RECORD-SIZE", dest="recordSize",
          help=f"message size in bytes. {one_of}")
    p.add("--payload-file", group=payload, metavar="PAYLOAD-FILE", dest="payloadFile", help="file to read the "
          "message payloads from. This works only for UTF-8 encoded text files. Payloads will be read from this file "
          f"and a payload will be randomly selected when sending messages. {one_of}")
    p.add("--payload-monotonic", group=payload, action="store_true", dest="payloadMonotonic",
          help=f"payload is monotonically increasing integer. {one_of}")
    p.add("--payload-delimiter", metavar="PAYLOAD-DELIMITER", dest="payloadDelimiter", default="\\n",
          help="provides delimiter to be used when --payload-file is provided. Defaults to new line. Note that this "
          "parameter will be ignored if --payload-file is not provided.")
    p.add("--throughput", required=True, type="Double", metavar="THROUGHPUT",
          help="throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. Set this to -1 to "
          "disable throttling.")
    p.add("--producer-props", nargs="+", metavar="PROP-NAME=PROP-VALUE", dest="producerConfig",
          help="kafka producer related configuration properties like bootstrap.servers,client.id etc. These configs "
          "take precedence over those passed via --producer.config.")
    p.add("--producer.config", metavar="CONFIG-FILE", dest="producerConfigFile",
          help="producer config properties file.")
    p.add("--print-metrics", action="store_true", dest="printMetrics", help="print out metrics at the end of the test.")
    p.add("--transactional-id", metavar="TRANSACTIONAL-ID", dest="transactionalId",
          default="performance-producer-default-transactional-id", help="The transactionalId to use if "
          "transaction-duration-ms is > 0. Useful when testing the performance of concurrent transactions.")
    p.add("--transaction-duration-ms", type="Long", metavar="TRANSACTION-DURATION", dest="transactionDurationMs",
          default=0, help="The max age of each transaction. The commitTransaction will be called after this time has "
          "elapsed. Transactions are only enabled if this value is positive.")
    return p


def java_split(text: str, regex: str) -> list[str]:
    """String.split(regex): trailing empty strings dropped."""
    parts = re.split(regex, text)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


class Stats:
    """ProducerPerformance.Stats: totals, a reporting window, and sampled latencies for the percentiles."""

    def __init__(self, num_records: int, reporting_interval_ms: int) -> None:
        self.start = self.window_start = time.time() * 1000
        self.sampling = num_records // min(num_records, 500000) if num_records > 0 else 1
        self.latencies: list[int] = []
        self.iteration = self.count = self.bytes = self.max_latency = self.total_latency = 0
        self.reporting_interval = reporting_interval_ms
        self.new_window()

    def new_window(self) -> None:
        self.window_start = time.time() * 1000
        self.window_count = self.window_max = self.window_total = self.window_bytes = 0

    def record(self, latency: int, size: int, now_ms: float) -> None:
        self.count += 1
        self.bytes += size
        self.total_latency += latency
        self.max_latency = max(self.max_latency, latency)
        self.window_count += 1
        self.window_bytes += size
        self.window_total += latency
        self.window_max = max(self.window_max, latency)
        if self.iteration % self.sampling == 0:
            self.latencies.append(latency)
        if now_ms - self.window_start >= self.reporting_interval:
            self.print_window()
            self.new_window()

    def print_window(self) -> None:
        elapsed = max(time.time() * 1000 - self.window_start, 1e-9)
        print(f"{self.window_count} records sent, {1000.0 * self.window_count / elapsed:.1f} records/sec "
              f"({1000.0 * self.window_bytes / elapsed / (1024.0 * 1024.0):.2f} MB/sec), "
              f"{self.window_total / self.window_count:.1f} ms avg latency, {float(self.window_max):.1f} ms max "
              "latency.", flush=True)

    def print_total(self) -> None:
        elapsed = max(time.time() * 1000 - self.start, 1e-9)
        lat = sorted(self.latencies)
        percs = [lat[int(p * len(lat))] if lat else 0 for p in (0.5, 0.95, 0.99, 0.999)]
        avg = f"{self.total_latency / self.count:.2f}" if self.count else "NaN"
        print(f"{self.count} records sent, {1000.0 * self.count / elapsed:f} records/sec "
              f"({1000.0 * self.bytes / elapsed / (1024.0 * 1024.0):.2f} MB/sec), {avg} ms avg latency, "
              f"{float(self.max_latency):.2f} ms max latency, {percs[0]} ms 50th, {percs[1]} ms 95th, "
              f"{percs[2]} ms 99th, {percs[3]} ms 99.9th.", flush=True)


def read_props(producer_props: list[str] | None, config_file: str | None, transactional_id: str,
               transactions: bool) -> dict[str, str]:
    props = load_props(config_file) if config_file else {}
    for prop in producer_props or []:
        pieces = java_split(prop, "=")
        if len(pieces) != 2:
            raise ValueError(f"Invalid property: {prop}")
        props[pieces[0]] = pieces[1]
    if transactions:
        props["transactional.id"] = transactional_id
    props.setdefault("client.id", "perf-producer-client")
    return props


def read_payloads(path: str | None, delimiter: str) -> list[bytes]:
    if path is None:
        return []
    import os

    print(f"Reading payloads from: {os.path.abspath(path)}")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise ValueError("File does not exist or empty file provided.")
    with open(path, encoding="utf-8") as f:
        payloads = java_split(f.read(), delimiter)
    print(f"Number of messages read: {len(payloads)}")
    return [s.encode() for s in payloads]


def execute(args: Sequence[str]) -> int:
    parser = arg_parser()
    res = parser.parse_tool_args(args)
    if res["producerConfig"] is None and res["producerConfigFile"] is None:
        parser.fail("Either --producer-props or --producer.config must be specified.")
    transactions = res["transactionDurationMs"] > 0
    # the default is printed in the help as \\n, so that one is read as a new line
    delimiter = "\n" if res["payloadDelimiter"] == "\\n" else res["payloadDelimiter"]
    payloads = read_payloads(res["payloadFile"], delimiter)
    props = read_props(res["producerConfig"], res["producerConfigFile"], res["transactionalId"], transactions)
    from brook.cli.clients import new_client, producer_config
    from brook.cli.partitioners import explicit

    producer = new_client("producer", producer_config(props), "org.apache.kafka.clients.producer.ProducerConfig")
    partitioning = explicit(props)
    if transactions or "transactional.id" in props:
        producer.init_transactions()
    topic, num_records, record_size, throughput = (res["topic"], res["numRecords"], res["recordSize"],
                                                   res["throughput"])
    rng = random.Random(0)
    stats = Stats(num_records, 5000)
    start = time.time()
    txn_size, txn_start = 0, 0.0
    pool = bytes(65 + b % 26 for b in rng.randbytes((record_size or 0) + 4096))  # random A-Z, as Java's payload
    errors: list[str] = []

    for i in range(num_records):
        if payloads:
            payload = payloads[rng.randrange(len(payloads))]
        elif record_size is not None:
            off = rng.randrange(4096)
            payload = pool[off:off + record_size]
        else:
            payload = str(i).encode()
        if transactions and txn_size == 0:
            producer.begin_transaction()
            txn_start = time.time() * 1000
        send_start = time.time() * 1000

        def callback(err, _msg, sent=send_start, size=len(payload)) -> None:  # noqa: ANN001 - PerfCallback
            now = time.time() * 1000
            if err is None:
                stats.record(int(now - sent), size, now)
            elif not errors:
                errors.append(err.str())
                print(f"org.apache.kafka.common.KafkaException: {err.str()}", file=sys.stderr)
            stats.iteration += 1

        partition = -1 if partitioning is None else partitioning.partition(producer, topic, None, payload)
        while True:
            try:
                producer.produce(topic, payload, partition=partition, on_delivery=callback)
                break
            except BufferError:  # Java's send blocks while the buffer is full
                producer.poll(0.05)
        producer.poll(0)
        txn_size += 1
        if transactions and res["transactionDurationMs"] <= send_start - txn_start:
            producer.commit_transaction()
            txn_size = 0
        if throughput > 0:  # ThroughputThrottler
            target = start + (i + 1) / throughput
            while time.time() < target:
                producer.poll(min(0.05, max(0.0, target - time.time())))
        elif throughput == 0:
            while True:
                producer.poll(1)
    if transactions and txn_size:
        producer.commit_transaction()
    producer.flush()
    stats.print_total()
    if res["printMetrics"]:
        print("Brook: --print-metrics is not supported (librdkafka's statistics are not Java client metrics)",
              file=sys.stderr)
    return 0


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        return execute(sys.argv[1:] if argv is None else argv)
    except (ValueError, OSError) as e:  # an uncaught exception: the JVM prints it and exits 1
        print(f"Exception in thread \"main\" java.lang.IllegalArgumentException: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        from brook.cli.clients import java_text

        print(f"Exception in thread \"main\" {java_text(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
