"""ksqlDB's own functional tests (query-validation-tests JSON files) against a real Brook broker, schema registry
and SQL server that this script starts. A developer tool, not part of the pytest suite (a file takes minutes).

    .venv/bin/python benchmarks/ksql_functional.py [--only PATTERN] FILE...
    .venv/bin/python benchmarks/ksql_functional.py --ksql-repo /work/.mirror/confluentinc+ksql/repo --file joins.json

Each test case (a "format" list gives one case per format, `{FORMAT}` substituted, named "<name> - <FORMAT>") has
its statements posted to /ksql (`ksql.streams.auto.offset.reset=earliest` plus the case's "properties"), its
"inputs" produced in order (key, value, timestamp, window, headers; serialised per the formats of the source over
the topic, as DESCRIBE reports them), then, once every persistent query's group has committed the end of what it
was assigned, the sink topics are read and compared with "outputs" (key, value, timestamp, window bounds; in
order on one partition). An "expectedException" case passes when a statement is refused with a message containing
the expected one (the REST API answers a `statement_error`, so the Java type is not checked). Between cases every
query is terminated, every source dropped with DELETE TOPIC, the remaining topics and registry subjects deleted.

A failing case whose inputs are out of timestamp order (or tie across topics) is run again with its inputs fed one
at a time, each processed before the next is written, as ksqlDB's test driver feeds them; if it passes then, it is
KNOWN (Brook takes a backlog in timestamp order). Other failures matching KNOWN below, and records expected at
timestamp 0 (written at the current time), are KNOWN too, each with the docs/sql.md difference it comes from.
"""

from __future__ import annotations

import argparse
import base64
import decimal
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src")] + [str(REPO / "tests" / d) for d in ("", "sql", "registry")]
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])  # the servers'
from conftest import BrokerProcess  # type: ignore[import-not-found]  # noqa: E402
from ksql_records import SourceInfo  # noqa: E402  # the same directory
from registry_helpers import RegistryProcess  # type: ignore[import-not-found]  # noqa: E402
from sql_helpers import KsqlProcess  # type: ignore[import-not-found]  # noqa: E402

QTT_DIR = "ksqldb-functional-tests/src/test/resources/query-validation-tests"
SERVICE_ID = "default_"
# docs/sql.md "Differences from ksqlDB": (what a case's name or statements contain, the difference, its item)
KNOWN: list[tuple[str, str, str]] = [
    ("PROTOBUF_NOSR", "PROTOBUF_NOSR is not supported", "Schema inference is repeated ... `PROTOBUF_NOSR` ..."),
]
ZERO_REASON = "a record written at timestamp 0 gets the current time (librdkafka reads 0 as now)"  # "Sources of
# different key formats ... A record a query writes to its sink with timestamp 0 gets the time it is written"
ORDER_REASON = "matches when fed in the listed order: Brook joins a backlog in timestamp order"  # "A join takes
# the records waiting on its inputs in timestamp order"


@dataclass
class Case:
    name: str
    statements: list[str]
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    topics: list[dict] = field(default_factory=list)
    properties: dict = field(default_factory=dict)
    exception: dict | None = None


def load_cases(text: str) -> list[Case]:
    """A file's tests, one case per entry of its "format" list (ksqlDB's `{FORMAT}` substitution)."""
    cases = []
    for t in json.loads(text)["tests"]:
        if t.get("enabled", True) is False:  # ksqlDB's test loader skips these too
            continue
        for fmt in t.get("format") or [None]:
            def sub(x: Any, fmt: str | None = fmt) -> Any:
                return json.loads(json.dumps(x).replace("{FORMAT}", fmt)) if fmt else x
            cases.append(Case(t["name"] + (f" - {fmt}" if fmt else ""), sub(t["statements"]), t.get("inputs", []),
                              t.get("outputs", []), sub(t.get("topics", [])), t.get("properties", {}),
                              t.get("expectedException")))
    return cases


class Runner:
    def __init__(self, work: Path) -> None:
        self.broker = BrokerProcess(work / "broker", {"num.partitions": "1"}).start()
        self.registry = RegistryProcess(work / "registry.log", self.broker.bootstrap).start()
        # ksqlDB's test driver registers with a MockSchemaRegistryClient, which checks no compatibility: a case's
        # sink schemas registered first do not refuse the ones its CREATE ... AS SELECT registers
        self.registry_call("PUT", "/config", {"compatibility": "NONE"})
        self.ksql = KsqlProcess(work / "ksql.log", self.broker.bootstrap, {
            "ksql.schema.registry.url": self.registry.url, "ksql.service.id": SERVICE_ID}).start()
        from confluent_kafka.admin import AdminClient
        self.admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})

    def stop(self) -> None:
        if hasattr(self, "_probe"):
            self._probe.close()
        for p in (self.ksql, self.registry):
            p.stop()
        self.broker.stop()

    # --- REST helpers
    def post(self, sql: str, props: dict | None = None) -> tuple[int, Any]:
        return self.ksql.ksql(sql, {"ksql.streams.auto.offset.reset": "earliest", **(props or {})})

    def sources(self) -> dict[str, SourceInfo]:
        out = {}
        for what in ("STREAMS", "TABLES"):
            status, body = self.post(f"SHOW {what} EXTENDED;")
            assert status == 200, body
            for d in body[0]["sourceDescriptions"]:
                out[d["name"]] = SourceInfo.of(d)
        return out

    def registry_call(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(self.registry.url + path, method=method, headers={
            "Content-Type": "application/vnd.schemaregistry.v1+json"},
            data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    # --- one case
    def run(self, case: Case, paced: bool = False) -> tuple[str, str]:
        try:
            self.prepare(case)
            failed = self.statements(case)
            if case.exception is not None:
                want = case.exception.get("message", "")
                if failed is None and "causeMessage" in case.exception:
                    return self.run_failing(case, case.exception["causeMessage"], paced)
                if failed is None:
                    return "FAIL", f"no error; expected {want!r}"
                return ("PASS", "") if want in failed else ("FAIL", f"error {failed!r}; expected {want!r}")
            if failed is not None:
                return "FAIL", f"statement refused: {failed}"
            sources = self.sources()
            self.produce(case, sources, paced)
            self.wait_caught_up()
            return self.compare(case, sources)
        except Exception as e:  # noqa: BLE001 - one case's fault is its ERROR line, the run goes on
            return "ERROR", f"{type(e).__name__}: {e}"[:300]
        finally:
            self.cleanup()

    def run_failing(self, case: Case, cause: str, paced: bool) -> tuple[str, str]:
        """A query that fails while it runs ("Exception caught in process"): its sinks hold what it wrote before,
        and it is in ERROR with the cause's message."""
        sources = self.sources()
        self.produce(case, sources, paced)
        try:
            self.wait_caught_up()
        except RuntimeError as e:
            if cause not in str(e):
                return "FAIL", f"query failed with {str(e)!r}; expected {cause!r}"
            return self.compare(case, sources)
        return "FAIL", f"no query failed; expected {cause!r}"

    def prepare(self, case: Case) -> None:
        from confluent_kafka.admin import NewTopic
        # ksqlDB's test topics have 4 partitions unless told; 1 keeps each topic's order (the test driver's) when
        # the case names no partition count
        default = 4 if any("partitions" in t for t in case.topics) else 1
        parts = {t["name"]: int(t.get("partitions", default)) for t in case.topics}
        for i in case.inputs:
            parts.setdefault(i["topic"], default)
        for s in case.statements:
            m = re.search(r"KAFKA_TOPIC\s*=\s*'([^']*)'", s, re.I)
            if m and not re.search(r"\bAS\s+SELECT\b|PARTITIONS\s*=", s, re.I):
                parts.setdefault(m.group(1), default)
            elif m and re.search(r"PARTITIONS\s*=", s, re.I) and not any(
                    t["name"] == m.group(1) and "partitions" in t for t in case.topics):
                parts.pop(m.group(1), None)  # the CREATE makes it with its PARTITIONS, as in ksqlDB's test driver
        if parts:
            for f in self.admin.create_topics([NewTopic(t, n, 1) for t, n in parts.items()]).values():
                f.result(30)
        # the ids ksqlDB's test driver's registry gives: a topic's own keySchemaId / valueSchemaId, else 1, 2, ...
        # in registration order; the statements' KEY_SCHEMA_ID / VALUE_SCHEMA_ID are mapped to the ids given here
        self.schema_ids, implicit = {}, 0
        for t in case.topics:
            for side in ("key", "value"):
                if f"{side}Schema" in t:
                    schema = t[f"{side}Schema"]
                    fmt = t.get(f"{side}Format", "")
                    body = self.schema_body(schema, fmt)
                    refs = t.get(f"{side}SchemaReferences") or []
                    if refs:  # each under a subject of its name, first (the test driver's registry does so)
                        body["references"] = [self.register_reference(r) for r in refs]
                    got = self.registry_call("POST", f"/subjects/{t['name']}-{side}/versions", body)["id"]
                    if f"{side}SchemaId" not in t:
                        implicit += 1
                    self.schema_ids[int(t.get(f"{side}SchemaId", implicit))] = int(got)

    @staticmethod
    def schema_body(schema: Any, fmt: str) -> dict:
        body = {"schema": schema if isinstance(schema, str) else json.dumps(schema)}
        if not fmt and isinstance(schema, str) and schema.lstrip().startswith("syntax"):
            fmt = "PROTOBUF"
        if fmt and fmt != "AVRO":
            body["schemaType"] = "JSON" if fmt == "JSON_SR" else fmt
        return body

    def register_reference(self, ref: dict) -> dict:
        """A test's schema reference ({"name", "format", "schema"}) registered under the subject of its name: the
        `references` entry naming that version."""
        self.registry_call("POST", f"/subjects/{ref['name']}/versions", self.schema_body(ref["schema"],
                                                                                          ref.get("format", "")))
        version = self.registry_call("GET", f"/subjects/{ref['name']}/versions/latest")["version"]
        return {"name": ref["name"], "subject": ref["name"], "version": version}

    def statements(self, case: Case) -> str | None:
        """The statements in one request, a line each (ksqlDB's `Line: n` positions count them); the refusal's
        message, or None."""
        ids = getattr(self, "schema_ids", {})
        text = re.sub(r"\b((?:KEY|VALUE)_SCHEMA_ID\s*=\s*)(\d+)",
                      lambda m: m.group(1) + str(ids.get(int(m.group(2)), m.group(2))), "\n".join(case.statements),
                      flags=re.I)
        status, body = self.post(text, case.properties)
        if status != 200:
            if not isinstance(body, dict):
                return str(body)
            # as the test driver reads KsqlStatementException.getMessage(): the message, then the statement
            statement = body.get("statementText")
            return body.get("message", str(body)) + (f"\nStatement: {statement}" if statement else "")
        return None

    def produce(self, case: Case, sources: dict[str, SourceInfo], paced: bool) -> None:
        from confluent_kafka import Producer
        from kafka import KafkaProducer  # type: ignore[import-untyped]
        by_topic: dict[str, SourceInfo] = {}
        for s in sources.values():
            by_topic.setdefault(s.topic, s)
        url = self.registry.url
        p = KafkaProducer(bootstrap_servers=self.broker.bootstrap, linger_ms=5)
        tombstones: Producer | None = None
        try:
            futures = []
            for i in case.inputs:
                src = by_topic.get(i["topic"])
                if src is None:
                    key = None if i.get("key") is None else str(i["key"]).encode()
                    value = None if i.get("value") is None else json.dumps(i["value"]).encode()
                else:
                    key, value = src.encode(url, True, i.get("key")), src.encode(url, False, i.get("value"))
                    if src.window and "window" in i:
                        w = i["window"]
                        key = (key or b"") + (struct.pack(">qq", w["end"], w["start"]) if src.window == "SESSION"
                                              else struct.pack(">q", w["start"]))
                headers = [(h["KEY"], base64.b64decode(h["VALUE"]) if h.get("VALUE") else None)
                           for h in i.get("headers", [])]
                if (key is None and value is None) or any(v is None for _, v in headers):
                    # kafka-python sends no record without both, nor a header without a value: librdkafka does
                    # (its timestamp 0 is "now"), after what was sent before it
                    p.flush(30)
                    tombstones = tombstones or Producer({"bootstrap.servers": self.broker.bootstrap})
                    tombstones.produce(i["topic"], key, value, timestamp=i.get("timestamp", 0),
                                       headers=headers or None)
                    tombstones.flush(30)
                    if paced:
                        self.wait_caught_up()
                    continue
                futures.append(p.send(i["topic"], key=key, value=value, timestamp_ms=i.get("timestamp", 0),
                                      headers=headers or None))
                if paced:
                    futures.pop().get(30)
                    self.wait_caught_up()
            p.flush(30)
            for f in futures:
                f.get(30)
        finally:
            p.close()

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Until each persistent query's group has committed the end of every partition it was assigned
        (twice in a row: a query may feed another)."""
        from confluent_kafka import ConsumerGroupTopicPartitions
        status, body = self.post("SHOW QUERIES;")
        ids = [q["id"] for q in body[0]["queries"]]
        groups = [f"_confluent-ksql-{SERVICE_ID}query_{q}" for q in ids]
        deadline, streak = time.monotonic() + timeout, 0
        while streak < 2:
            failed = [q for q in self.post("SHOW QUERIES;")[1][0]["queries"] if q["state"] == "ERROR"]
            if failed:
                lines = [line for line in self.ksql.log_path.read_text(errors="replace").splitlines()
                         if f"Query {failed[0]['id']} failed" in line]
                raise RuntimeError(lines[-1].split("] ", 1)[-1] if lines else f"{failed[0]['id']} failed")
            if time.monotonic() > deadline:
                raise TimeoutError("queries did not commit their inputs' ends")
            done = bool(groups)
            for g, f in (self.admin.describe_consumer_groups(groups) if groups else {}).items():
                members = f.result(10).members
                tps = [tp for m in members for tp in m.assignment.topic_partitions]
                if not tps:
                    done = False
                    break
                committed = self.admin.list_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(g, tps)])[g].result(10).topic_partitions
                for tp in committed:
                    if tp.offset < self.high(tp.topic, tp.partition) and self.high(tp.topic, tp.partition) > 0:
                        done = False
            streak = streak + 1 if done else 0
            time.sleep(0.1)

    def high(self, topic: str, partition: int) -> int:
        from confluent_kafka import Consumer, TopicPartition
        if not hasattr(self, "_probe"):
            self._probe = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "ksql-functional"})
        return int(self._probe.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1])

    def read(self, topic: str) -> tuple[list[Any], int]:
        from confluent_kafka import Consumer, TopicPartition
        md = self.admin.list_topics(topic, timeout=10).topics[topic]
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "ksql-functional",
                      "enable.auto.commit": False})
        ends = {p: self.high(topic, p) for p in md.partitions}
        c.assign([TopicPartition(topic, p, 0) for p, end in ends.items() if end > 0])
        out: list[Any] = []
        deadline = time.monotonic() + 30
        try:
            while len(out) < sum(ends.values()) and time.monotonic() < deadline:
                out += [m for m in c.consume(100, 0.2) if not m.error()]
        finally:
            c.close()
        return out, len(md.partitions)

    def compare(self, case: Case, sources: dict[str, SourceInfo]) -> tuple[str, str]:
        by_topic = {s.topic: s for s in sources.values()}
        url, zero = self.registry.url, False
        for topic in dict.fromkeys(o["topic"] for o in case.outputs):
            want = [o for o in case.outputs if o["topic"] == topic]
            src = by_topic.get(topic)
            if src is None:
                return "FAIL", f"no source writes {topic}"
            msgs, partitions = self.read(topic)
            got: list[dict] = []
            for m in msgs:
                key, window = m.key(), None
                if src.window and key is not None:
                    n = 16 if src.window == "SESSION" else 8
                    key, bounds = key[:-n], struct.unpack(">" + "q" * (n // 8), key[-n:])
                    window = {"start": bounds[-1], **({"end": bounds[0]} if n == 16 else {})}
                got.append({"key": src.decode(url, True, key), "value": src.decode(url, False, m.value()),
                            "timestamp": m.timestamp()[1], **({"window": window} if window else {})})
            # a record without "key" has a null key (ksqlDB's test Record)
            expected = [{"key": None, **{k: o[k] for k in ("key", "value", "timestamp", "window") if k in o}}
                        for o in want]
            for e, g in zip(expected, got, strict=False):
                if "window" in e:  # a time window's size is not in its key; the type is the sink's
                    e["window"] = {k: v for k, v in e["window"].items() if k in g.get("window", {})}
                if "timestamp" not in e:
                    g.pop("timestamp")
                elif e["timestamp"] == 0 and g["timestamp"] != 0:  # librdkafka writes 0 as "now"
                    g["timestamp"], zero = 0, True
            if partitions > 1:  # only each partition's order is defined
                got.sort(key=lambda r: json.dumps(r, sort_keys=True, default=str))
                expected.sort(key=lambda r: json.dumps(r, sort_keys=True, default=str))
            for i, (e, g) in enumerate(zip(expected, got, strict=False)):
                if not matches(e, g):
                    return "FAIL", f"{topic}[{i}]: expected {compact(e)}, got {compact(g)}"
            if len(got) != len(expected):
                extra = got[len(expected):len(expected) + 1] or expected[len(got):len(got) + 1]
                return "FAIL", f"{topic}: {len(got)} records, expected {len(expected)} ({compact(extra)})"
        return ("KNOWN", ZERO_REASON) if zero else ("PASS", "")

    def cleanup(self) -> None:
        if hasattr(self, "_probe"):  # its metadata would outlive the topics deleted here
            self._probe.close()
            del self._probe
        self.post("TERMINATE ALL;")
        for _ in range(3):  # sinks before the sources they read (a source read by a query is refused)
            for name, s in self.sources().items():
                if self.post(f"DROP {s.kind} `{name}` DELETE TOPIC;")[0] != 200:  # a topic shared by sources
                    self.post(f"DROP {s.kind} `{name}`;")  # is deleted with the remaining topics below
        keep = (f"_confluent-ksql-{SERVICE_ID}_command_topic", "_schemas", "__")
        topics = [t for t in self.admin.list_topics(timeout=10).topics if not t.startswith(keep)]
        if topics:
            for f in self.admin.delete_topics(topics).values():
                try:
                    f.result(30)
                except Exception:  # noqa: BLE001 - already gone
                    pass
        deadline = time.monotonic() + 30
        while set(topics) & set(self.admin.list_topics(timeout=10).topics) and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(3):  # a referenced schema's subject only after those referring to it
            for subject in self.registry_call("GET", "/subjects"):
                try:
                    self.registry_call("DELETE", f"/subjects/{subject}")
                    self.registry_call("DELETE", f"/subjects/{subject}?permanent=true")
                except urllib.error.HTTPError:
                    pass


def matches(expected: Any, got: Any) -> bool:
    """JSON equality with numbers compared as numbers (1 == 1.0; doubles to 1e-9); an expected field name matches
    the field of that name, else of that name upper-cased (ksqlDB's ExpectedRecordComparator)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        return len(expected) == len(got) and all(
            (k in got or str(k).upper() in got) and matches(v, got[k] if k in got else got[str(k).upper()])
            for k, v in expected.items())
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(matches(a, b) for a, b in zip(expected, got, strict=True))
    if isinstance(got, decimal.Decimal) and not isinstance(expected, bool):
        # a DECIMAL as the serde reads it (Avro's, Protobuf's bytes): compared by value with the expected number
        # or text ("5.40" = 5.4)
        try:
            return isinstance(expected, (int, float, str)) and decimal.Decimal(
                repr(expected) if isinstance(expected, float) else expected) == got
        except decimal.InvalidOperation:
            return False
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(got, numbers) and not isinstance(expected, bool) \
            and not isinstance(got, bool):
        return math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, str) and isinstance(got, (int, float)) and not isinstance(got, bool):
        # a DECIMAL is expected as its text ("005.4", "5.40"); the serde reads it as a number (its bytes carry
        # the column's scale)
        try:
            return decimal.Decimal(expected) == decimal.Decimal(repr(got))
        except decimal.InvalidOperation:
            return expected == str(got)
    return bool(expected == got)


def compact(x: Any) -> str:
    return json.dumps(x, default=lambda b: b.decode(errors="replace") if isinstance(b, bytes) else str(b))[:200]


def known(case: Case) -> str | None:
    text = case.name + " " + " ".join(case.statements)
    return next((reason for needle, reason, _doc in KNOWN if needle in text), None)


def listed_out_of_order(case: Case) -> bool:
    """Inputs out of timestamp order, or tied across topics, or whose time is a column (TIMESTAMP='col'): ksqlDB's
    test driver takes them as listed."""
    if any(re.search(r"\bTIMESTAMP\s*=", s, re.I) for s in case.statements):
        return True
    latest: dict[str, int] = {}  # by topic
    for i in case.inputs:
        t = i.get("timestamp", 0)
        if any(t < seen or (t == seen and topic != i["topic"]) for topic, seen in latest.items()):
            return True
        latest[i["topic"]] = max(t, latest.get(i["topic"], t))
    return False


def verdict_of(runner: Runner, case: Case) -> tuple[str, str]:
    """A case's verdict; one that fails with inputs out of timestamp order is run again fed one record at a time
    (each processed before the next is written, as the test driver feeds them): passing then, it is KNOWN."""
    verdict, reason = runner.run(case)
    if verdict not in ("PASS", "KNOWN") and listed_out_of_order(case):
        paced, why = runner.run(case, paced=True)
        if paced in ("PASS", "KNOWN"):
            verdict, reason = "KNOWN", ORDER_REASON + (f"; {why}" if why else "")
        else:
            verdict, reason = paced, f"{why} (fed one record at a time)"
    if verdict not in ("PASS", "KNOWN") and (static := known(case)):
        verdict, reason = "KNOWN", f"{static} ({reason})"
    return verdict, reason


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--ksql-repo", type=Path, help="a ksql git repository (a mirror without work tree will do)")
    ap.add_argument("--file", action="append", default=[], help="a file of its query-validation-tests")
    ap.add_argument("--only", help="a regular expression the case names must match")
    ap.add_argument("--work", type=Path, help="keep the processes' logs and data here (default: a temporary dir)")
    args = ap.parse_args()
    texts = [(f.name, f.read_text()) for f in args.files]
    for name in args.file:
        texts.append((name, subprocess.run(["git", "--git-dir", str(args.ksql_repo), "show",
                                            f"HEAD:{QTT_DIR}/{name}"], check=True, capture_output=True,
                                           text=True).stdout))
    totals: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="ksql-functional-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        runner = Runner(work)
        try:
            for fname, text in texts:
                counts = {"PASS": 0, "KNOWN": 0, "FAIL": 0, "ERROR": 0}
                cases = [c for c in load_cases(text) if not args.only or re.search(args.only, c.name)]
                for case in cases:
                    started = time.monotonic()
                    verdict, reason = verdict_of(runner, case)
                    counts[verdict] += 1
                    print(f"{verdict:5} {fname}: {case.name} [{time.monotonic() - started:.1f}s]"
                          + (f" -- {reason}" if reason else ""), flush=True)
                print(f"{fname}: {counts['PASS']}/{len(cases)} matched, {counts['KNOWN']} known differences, "
                      f"{counts['FAIL']} failed, {counts['ERROR']} errors", flush=True)
                for k, v in counts.items():
                    totals[k] = totals.get(k, 0) + v
        finally:
            runner.stop()
    if len(texts) > 1:
        print(f"total: {totals.get('PASS', 0)}/{sum(totals.values())} matched, {totals.get('KNOWN', 0)} known")
    return 0 if not totals.get("FAIL") and not totals.get("ERROR") else 1


if __name__ == "__main__":
    sys.exit(main())
