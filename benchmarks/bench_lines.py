"""run.py's benchmark lines (what each runs, its message count and value size) and one line's result on one broker.
Imported by run.py and its reporting (same directory); not a command of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIB = 1024


# --------------------------------------------------------------------------------------------------------------
# Benchmark lines


@dataclass(frozen=True)
class Line:
    name: str
    kind: str  # "produce", "consume", "sync" or "latency"
    count: int  # full-run message count; --quick divides it (see quick_count)
    size: int = 100
    acks: str = "1"
    flush: bool = False  # topic config flush.messages=1 (fsync before acknowledging)
    quick_count: int | None = None
    what: str = ""
    partitions: int = 1
    producers: int = 1  # rdkafka_performance processes producing at once (random partitioner when > 1)
    idle: int = 0  # client connections held open and silent during the line
    rate: int = 0  # latency lines: messages per second

    def n(self, quick: bool, scale: float = 1.0) -> int:
        base = self.count if not quick else (self.quick_count if self.quick_count is not None else self.count // 10)
        return max(1, round(base * scale))


LINES: list[Line] = [
    Line("produce-100B-acks1", "produce", 1_000_000, 100, "1",
         what="rdkafka_performance -P, 100 B values, acks=1, one partition, linger.ms=5"),
    Line("produce-100B-acksall", "produce", 1_000_000, 100, "all",
         what="as above with acks=all (one broker, so the ISR is the leader alone)"),
    Line("produce-1KiB-acks1", "produce", 300_000, KIB, "1",
         what="rdkafka_performance -P, 1 KiB values, acks=1"),
    Line("consume-100B", "consume", 1_000_000, 100,
         what="rdkafka_performance -C -o beginning -e: reads a pre-filled partition of 100 B messages"),
    Line("produce-100B-acks1-flush", "produce", 1_000_000, 100, "1", flush=True,
         what="produce-100B-acks1 on a topic with flush.messages=1 (fsync before the ack)"),
    Line("produce-100B-acksall-flush", "produce", 1_000_000, 100, "all", flush=True,
         what="produce-100B-acksall on a topic with flush.messages=1"),
    Line("produce-1KiB-acks1-flush", "produce", 300_000, KIB, "1", flush=True,
         what="produce-1KiB-acks1 on a topic with flush.messages=1"),
    Line("sync-roundtrip-100B", "sync", 5_000, 100, "all", quick_count=1_000,
         what="confluent-kafka producer, linger.ms=0: produce one 100 B message, flush(), repeat"),
    # Scaling lines: how the cost grows with value size, partitions, connections and durability.
    Line("consume-1KiB", "consume", 300_000, KIB,
         what="as consume-100B with 1 KiB values"),
    Line("produce-16KiB-acks1", "produce", 20_000, 16 * KIB, "1",
         what="rdkafka_performance -P, 16 KiB values, acks=1"),
    Line("produce-100B-100p-4prod", "produce", 1_000_000, 100, "1", partitions=100, producers=4,
         what="4 rdkafka_performance -P at once (a quarter of the messages each), 100 B, acks=1, onto a topic of "
              "100 partitions (random partitioner)"),
    Line("produce-100B-1000p-4prod", "produce", 1_000_000, 100, "1", partitions=1000, producers=4,
         what="as above onto 1,000 partitions"),
    Line("produce-100B-1000idle", "produce", 1_000_000, 100, "1", idle=1000,
         what="produce-100B-acks1 while 1,000 other client connections (each past its ApiVersions exchange) stay "
              "open and idle"),
    Line("e2e-latency-100B", "latency", 20_000, 100, "all", rate=2_000, quick_count=3_000,
         what="confluent-kafka producer (linger.ms=0, acks=all) at a fixed 2,000 msgs/s and a consumer in the same "
              "process: produce-to-consume latency of every message"),
]

# Lines reported as a pair: the cost of fsync before the ack (topic config flush.messages=1).
FLUSH_PAIRS = [("produce-100B-acksall", "produce-100B-acksall-flush"),
               ("produce-100B-acks1", "produce-100B-acks1-flush"),
               ("produce-1KiB-acks1", "produce-1KiB-acks1-flush")]


@dataclass
class Result:
    line: str
    broker: str
    ok: bool = False
    na: str = ""  # set when the line does not apply to this broker
    error: str = ""
    msgs: int = 0
    msgs_per_s: float = 0.0
    mb_per_s: float = 0.0
    seconds: float = 0.0  # the tool's own measured interval
    wall: float = 0.0  # our wall clock over the whole client run
    cpu_s: float | None = None
    client_cpu_s: float | None = None  # the benchmark client(s) this script started and waited for
    other_cpu_s: float | None = None  # everything else on the machine: interference
    rss_peak_kib: int | None = None
    rss_reset: bool = False  # VmHWM was reset before the line (else it is the peak since broker start)
    p50_us: float | None = None
    p99_us: float | None = None
    p999_us: float | None = None
    notes: list[str] = field(default_factory=list)
    repeats: list[float] = field(default_factory=list)  # msgs/s of every successful repeat

    @property
    def spread(self) -> float | None:
        """(max - min) / median of the repeats' msgs/s, as a fraction."""
        if len(self.repeats) < 2 or not self.msgs_per_s:
            return None
        return (max(self.repeats) - min(self.repeats)) / self.msgs_per_s

    @property
    def wall_msgs_per_s(self) -> float:
        """Messages over our wall clock around the whole client run, connection set-up included. On consume lines
        this is the fair figure: rdkafka_performance starts its clock at the first message, so a broker that
        answers the first fetch with the whole partition gets that transfer for free."""
        return self.msgs / self.wall if self.wall else 0.0

    @property
    def status(self) -> str:
        return "n/a" if self.na else ("ok" if self.ok else "FAILED")
