"""kafka-verifiable-producer: Kafka 3.9's VerifiableProducer (tools/), the system tests' producer. It sends
increasing integers (optionally `<value-prefix>.<n>`, with keys 0..n-1 repeating) and prints a JSON line per event:
startup_complete, producer_send_success / producer_send_error per record, then shutdown_complete and tool_data
(from its shutdown hook, so also on SIGTERM or Ctrl-C)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from brook.cli.argparse4j import ArgumentParserException, Parser
from brook.cli.options import entry_point, load_props
from brook.cli.verifiable import Stopper, bootstrap, connection_group, create_from_args, print_event


def arg_parser() -> Parser:
    p = Parser("verifiable-producer", "This tool produces increasing integers to the specified topic and prints JSON "
               "metadata to stdout on each \"send\" request, making externally visible which messages have been acked "
               "and which have not.", default_help=True)
    p.add("--topic", required=True, metavar="TOPIC", help="Produce messages to this topic.")
    connection_group(p, "REQUIRED: The server(s) to connect to. Comma-separated list of Kafka brokers in the form "
                     "HOST1:PORT1,HOST2:PORT2,...")
    p.add("--max-messages", default=-1, type="Integer", metavar="MAX-MESSAGES", dest="maxMessages",
          help="Produce this many messages. If -1, produce messages until the process is killed externally.")
    p.add("--throughput", default=-1, type="Integer", metavar="THROUGHPUT", help="If set >= 0, throttle maximum "
          "message throughput to *approximately* THROUGHPUT messages/sec.")
    p.add("--acks", default=-1, type="Integer", choices=(0, 1, -1), metavar="ACKS",
          help="Acks required on each produced message. See Kafka docs on acks for details.")
    p.add("--producer.config", metavar="CONFIG_FILE", help="Producer config properties file.")
    p.add("--message-create-time", default=-1, type="Long", metavar="CREATETIME", dest="createTime",
          help="Send messages with creation time starting at the arguments value, in milliseconds since epoch")
    p.add("--value-prefix", type="Integer", metavar="VALUE-PREFIX", dest="valuePrefix",
          help="If specified, each produced value will have this prefix with a dot separator")
    p.add("--repeating-keys", type="Integer", metavar="REPEATING-KEYS", dest="repeatingKeys",
          help="If specified, each produced record will have a key starting at 0 increment by 1 up to the number "
          "specified (exclusive), then the key is set to 0 again")
    return p


def producer_props(p: Parser, res: dict[str, Any]) -> dict[str, str]:
    """createFromArgs: bootstrap, acks and no retries, then the config file over them."""
    props = {"bootstrap.servers": bootstrap(p, res), "acks": str(res["acks"]), "retries": "0"}
    if res["producer.config"] is not None:
        try:
            props.update(load_props(res["producer.config"]))
        except OSError:  # NoSuchFileException's message is the path
            raise ArgumentParserException(res["producer.config"], p) from None
    return props


class VerifiableProducer:
    def __init__(self, producer: Any, partitioning: Any, res: dict[str, Any], stopper: Stopper,
                 timeout_ms: int) -> None:
        self.producer, self.partitioning, self.stopper = producer, partitioning, stopper
        self.timeout_ms = timeout_ms
        self.topic, self.throughput = res["topic"], res["throughput"]
        self.max_messages, self.value_prefix = res["maxMessages"], res["valuePrefix"]
        self.repeating_keys, self.key_counter = res["repeatingKeys"], 0
        self.create_time = None if res["createTime"] == -1 else res["createTime"]
        self.start_ms = int(time.time() * 1000)
        self.sent = self.acked = 0

    def key(self) -> str | None:
        if self.repeating_keys is None:
            return None
        key = str(self.key_counter)
        self.key_counter += 1
        if self.key_counter == self.repeating_keys:
            self.key_counter = 0
        return key

    def value(self, n: int) -> str:
        return f"{self.value_prefix}.{n}" if self.value_prefix is not None else str(n)

    def send(self, key: str | None, value: str) -> None:
        from brook.cli.clients import delivery_error, from_kafka

        timestamp = 0
        if self.create_time is not None:
            timestamp = self.create_time
            self.create_time += int(time.time() * 1000) - self.start_ms  # as VerifiableProducer.send moves it

        def on_delivery(err: Any, msg: Any) -> None:  # PrintInfoCallback
            if err is None:
                self.acked += 1
                print_event("producer_send_success", key=key, value=value, topic=msg.topic(),
                            partition=msg.partition(), offset=msg.offset())
            else:
                self.failed(key, value, delivery_error(err, msg, self.timeout_ms))

        self.sent += 1
        kb, vb = None if key is None else key.encode(), value.encode()
        try:
            partition = -1 if self.partitioning is None else self.partitioning.partition(self.producer, self.topic,
                                                                                          kb, vb)
            while True:
                try:
                    self.producer.produce(self.topic, vb, kb, partition=partition, timestamp=timestamp,
                                          on_delivery=on_delivery)
                    break
                except BufferError:  # buffer.memory full: Java's send blocks
                    self.producer.poll(0.05)
        except Exception as e:  # KafkaProducer.send's own failures (or the partitioner's metadata wait)
            self.failed(key, value, from_kafka(e))
        self.producer.poll(0)

    def failed(self, key: str | None, value: str, error: Any) -> None:
        print_event("producer_send_error", topic=self.topic, key=key, value=value,
                    exception=f"class {error.java_class}", message=error.message)

    def run(self) -> None:
        print_event("startup_complete")
        i, start = 0, time.time()
        while (self.max_messages < 0 or i < self.max_messages) and not self.stopper.stopped:
            send_start = time.time()
            self.send(self.key(), self.value(i))
            self.throttle(i, start, send_start)
            i += 1

    def throttle(self, sent_so_far: int, start: float, send_start: float) -> None:
        """ThroughputThrottler: past the target rate, wait until the count sent so far is on schedule."""
        if self.throughput < 0:
            return
        elapsed = send_start - start
        if elapsed <= 0 or sent_so_far / elapsed <= self.throughput:
            return
        until = float("inf") if self.throughput == 0 else start + sent_so_far / self.throughput
        while time.time() < until and not self.stopper.stopped:
            self.producer.poll(min(0.05, max(0.0, until - time.time())))

    def close(self) -> None:
        """The shutdown hook: close the producer (every record settles), shutdown_complete, then tool_data."""
        self.producer.flush()
        print_event("shutdown_complete")
        elapsed_ms = int(time.time() * 1000) - self.start_ms
        avg = 1000 * (self.acked / elapsed_ms) if elapsed_ms else (float("nan") if not self.acked else float("inf"))
        print_event("tool_data", sent=self.sent, acked=self.acked, target_throughput=self.throughput,
                    avg_throughput=avg)


def build(props: dict[str, str]) -> tuple[dict[str, str], Any, Any]:
    from brook.cli.clients import new_client, producer_config
    from brook.cli.partitioners import explicit

    conf = producer_config(props)
    conf.setdefault("message.timeout.ms", "120000")  # delivery.timeout.ms's default
    return conf, new_client("producer", conf, "org.apache.kafka.clients.producer.ProducerConfig"), explicit(props)


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    res, (conf, producer, partitioning) = create_from_args(arg_parser(), argv, producer_props, build)
    stopper = Stopper()
    tool = VerifiableProducer(producer, partitioning, res, stopper, int(conf["message.timeout.ms"]))
    tool.run()
    tool.close()
    return stopper.exit_code()


if __name__ == "__main__":
    sys.exit(main())
