"""SQL engine benchmark, in process: records per second that a compiled filter/project plan decodes (JSON),
filters (GEO_DISTANCE) and projects, the per-record work of a push or CSAS query without the Kafka round trip.

    .venv/bin/python benchmarks/sql_plan.py [--count 100000]
"""

from __future__ import annotations

import argparse
import json
import time

from brook.sql.parser import parse
from brook.sql.queries import Plan, Source


class Record:
    """What the plan reads of a consumed record (confluent_kafka.Message's accessors)."""

    def __init__(self, value: bytes) -> None:
        self._value = value

    def error(self) -> None:
        return None

    def value(self) -> bytes:
        return self._value

    def key(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 0)

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 0

    def topic(self) -> str:
        return "locations"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    count = parser.parse_args().count
    source = Source("RIDERS", "STREAM", "locations", "KAFKA", "JSON", [
        ("PROFILEID", ("STRING",), None), ("LATITUDE", ("DOUBLE",), None), ("LONGITUDE", ("DOUBLE",), None)], "")
    query = parse("SELECT profileId, UCASE(profileId) AS up FROM riders WHERE GEO_DISTANCE(latitude, longitude, "
                  "37.4133, -122.1162) <= 5 EMIT CHANGES;")[0].node
    plan = Plan(query, source)
    records = [Record(json.dumps({"profileId": f"p{i}", "latitude": 37.39 + (i % 10) / 100,
                                  "longitude": -122.08}).encode()) for i in range(count)]
    start = time.perf_counter()
    out = plan.run_batch(source, records)
    elapsed = time.perf_counter() - start
    print(f"{count / elapsed:,.0f} records/s decoded, filtered and projected ({len(out)} of {count} rows out)")


if __name__ == "__main__":
    main()
