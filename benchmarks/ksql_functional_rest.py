"""ksqlDB's rest-query-validation-tests (JSON files of statements, inputs and the REST responses expected) against a
real Brook broker, schema registry and SQL server, with the machinery of `ksql_functional.py`. A developer tool.

    .venv/bin/python benchmarks/ksql_functional_rest.py --ksql-repo /work/.mirror/confluentinc+ksql/repo \\
        --file pull-queries-against-materialized-aggregates.json [--only PATTERN]

As ksqlDB's RestTestExecutor: the statements before the first query go to /ksql one at a time, then the inputs are
produced and the persistent queries caught up, then each query goes to /query. A case passes when every response
matches: an admin statement succeeded, a query's header schema is the expected one and its rows are the expected
ones (in any order: pull queries scan partitions in no defined order), or when the expected error's message is
contained in the message of the statement or query that fails (and its status is the expected one). Push queries
(EMIT CHANGES) are not run: they stream until a LIMIT, which these files rarely give.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ksql_functional as qtt  # type: ignore[import-not-found]  # the same directory

RQTT_DIR = "ksqldb-functional-tests/src/test/resources/rest-query-validation-tests"


@dataclass
class RestCase:
    name: str
    statements: list[str]
    inputs: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)
    properties: dict = field(default_factory=dict)
    error: dict | None = None
    topics: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    exception: dict | None = None


def load(text: str) -> list[RestCase]:
    return [RestCase(t["name"], t["statements"], t.get("inputs", []), t.get("responses", []),
                     t.get("properties", {}), t.get("expectedError"), t.get("topics", []))
            for t in json.loads(text)["tests"]]


def is_query(sql: str) -> bool:
    return bool(re.match(r"\s*SELECT\b", sql, re.I))


def query(runner: qtt.Runner, sql: str, props: dict) -> tuple[int, Any]:
    status, _, raw = runner.ksql.request("POST", "/query", {"ksql": sql, "streamsProperties": props})
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace") if isinstance(raw, bytes) else raw


def error_matches(want: dict, status: int, body: Any) -> bool:
    message = body.get("message", "") if isinstance(body, dict) else str(body)
    return want.get("message", "") in message and status == want.get("status", status)


def _norm(x: Any) -> Any:
    """Numbers as JSON compares them (10 == 10.0)."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    if isinstance(x, list):
        return [_norm(v) for v in x]
    if isinstance(x, dict):
        return {k: _norm(v) for k, v in x.items()}
    return x


def rows_match(expected: list[dict], got: list[dict]) -> str | None:
    """None, or what differs: the header's schema, then the rows as a multiset."""
    header = next((e["header"] for e in expected if "header" in e), None)
    got_header = next((g["header"] for g in got if "header" in g), None)
    if header is not None and (got_header is None or header.get("schema") != got_header.get("schema")):
        return f"header {got_header} != {header}"
    want = sorted(json.dumps(_norm(e["row"]["columns"]), sort_keys=True) for e in expected if "row" in e)
    have = sorted(json.dumps(_norm(g["row"]["columns"]), sort_keys=True) for g in got if "row" in g)
    if want != have:
        return f"rows {have} != {want}"
    return None


def run(runner: qtt.Runner, case: RestCase) -> tuple[str, str]:
    props = {"ksql.streams.auto.offset.reset": "earliest", **case.properties}
    admin = [s for s in case.statements if not is_query(s)]
    queries = [s for s in case.statements if is_query(s)]
    try:
        runner.prepare(case)  # type: ignore[arg-type]  # the fields it reads (topics, inputs, statements)
        for sql in admin:
            status, body = runner.post(sql, case.properties)
            if status != 200:
                if case.error is not None:
                    return ("PASS", "") if error_matches(case.error, status, body) else (
                        "FAIL", f"{body.get('message') if isinstance(body, dict) else body!r}; expected "
                                f"{case.error.get('message')!r}")
                return "FAIL", f"statement refused: {body.get('message') if isinstance(body, dict) else body}"
        runner.produce(case, runner.sources(), False)  # type: ignore[arg-type]
        if runner.post("SHOW QUERIES;")[1][0]["queries"]:
            runner.wait_caught_up()
        expected = [r["query"] for r in case.responses if "query" in r]
        for n, sql in enumerate(queries):
            if re.search(r"\bEMIT\s+CHANGES\b", sql, re.I):
                return "SKIP", "push query"
            deadline = time.monotonic() + 10  # a pull query may reach a store a moment before its last rows
            while True:
                status, body = query(runner, sql, props)
                if status != 200 or not isinstance(body, list):
                    if case.error is not None:
                        return ("PASS", "") if error_matches(case.error, status, body) else (
                            "FAIL", f"{body.get('message') if isinstance(body, dict) else body!r}; expected "
                                    f"{case.error.get('message')!r}")
                    return "FAIL", f"{sql}: {body.get('message') if isinstance(body, dict) else body}"
                differs = rows_match(expected[n], body) if n < len(expected) else None
                if differs is None or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if differs:
                return "FAIL", f"{sql}: {differs}"[:400]
        if case.error is not None:
            return "FAIL", f"no error; expected {case.error.get('message')!r}"
        return "PASS", ""
    except Exception as e:  # noqa: BLE001 - one case's fault is its ERROR line, the run goes on
        return "ERROR", f"{type(e).__name__}: {e}"[:300]
    finally:
        runner.cleanup()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ksql-repo", type=Path, required=True, help="a ksql git repository (a mirror will do)")
    ap.add_argument("--file", action="append", default=[], help="a file of its rest-query-validation-tests")
    ap.add_argument("--only", help="a regular expression the case names must match")
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ksql-rest-functional-") as tmp:
        runner = qtt.Runner(Path(tmp))
        try:
            for name in args.file:
                text = subprocess.run(["git", "--git-dir", str(args.ksql_repo), "show", f"HEAD:{RQTT_DIR}/{name}"],
                                      check=True, capture_output=True, text=True).stdout
                counts = {"PASS": 0, "FAIL": 0, "ERROR": 0, "SKIP": 0}
                cases = [c for c in load(text) if not args.only or re.search(args.only, c.name)]
                for case in cases:
                    started = time.monotonic()
                    verdict, reason = run(runner, case)
                    counts[verdict] += 1
                    print(f"{verdict:5} {name}: {case.name} [{time.monotonic() - started:.1f}s]"
                          + (f" -- {reason}" if reason else ""), flush=True)
                print(f"{name}: {counts['PASS']}/{len(cases)} matched, {counts['FAIL']} failed, {counts['ERROR']} "
                      f"errors, {counts['SKIP']} push queries not run", flush=True)
                failed += counts["FAIL"] + counts["ERROR"]
        finally:
            runner.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
