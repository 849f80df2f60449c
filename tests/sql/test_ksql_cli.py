"""The `ksql` CLI as a learner drives it: the real CLI process, statements piped into its stdin (or -e / -f),
against a real SQL server and broker; the assertions are on what it prints, as ksqlDB's CLI prints it."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from kafka_wire import wait_for
from sql_helpers import module_ksql, produce

KSQL = str(Path(sys.executable).parent / "ksql")
RIDERS = [(b"c2309eec", {"profileId": "c2309eec", "latitude": 37.7877, "longitude": -122.4205}),
          (b"18f4ea86", {"profileId": "18f4ea86", "latitude": 37.3903, "longitude": -122.0643}),
          (b"4ab5cbad", {"profileId": "4ab5cbad", "latitude": 37.3952, "longitude": -122.0813})]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-cli") as (broker, k):
        status, body = k.ksql("CREATE STREAM riderLocations (profileId VARCHAR, latitude DOUBLE, longitude DOUBLE)"
                              " WITH (kafka_topic='locations', value_format='json', partitions=1);")
        assert status == 200, body
        produce(broker.bootstrap, "locations", [(key, json.dumps(v).encode()) for key, v in RIDERS])
        yield broker, k, tmp_path_factory.mktemp("ksql-cli-home")


def run_cli(env, stdin: str, *args: str) -> str:
    _, k, home = env
    done = subprocess.run([KSQL, *args, f"http://127.0.0.1:{k.port}"], input=stdin, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "HOME": str(home), "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_interactive_session(env):
    out = run_cli(env, "CREATE STREAM pageviews (viewtime BIGINT, userid VARCHAR KEY, pageid VARCHAR)\n"
                       "  WITH (kafka_topic='pageviews', value_format='json',\n"
                       "        partitions=1);\n"
                       "SHOW STREAMS;\n"
                       "DESCRIBE pageviews;\n"
                       "exit\n")
    assert "CLI v0.29.0, Server v0.29.0 located at http://127.0.0.1:" in out
    assert "Server Status: RUNNING" in out
    assert "Having trouble? Type 'help' (case-insensitive) for a rundown of how things work!" in out
    assert "ksql> \n Message        \n----------------\n Stream created \n----------------\n" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(" Stream Name"))
    assert lines[header].split("|")[0].strip() == "Stream Name"
    assert [c.strip() for c in lines[header].split("|")] == ["Stream Name", "Kafka Topic", "Key Format",
                                                            "Value Format", "Windowed"]
    assert set(lines[header + 1]) == {"-"}
    assert [c.strip() for c in lines[header + 2].split("|")] == ["PAGEVIEWS", "pageviews", "KAFKA", "JSON", "false"]
    assert [c.strip() for c in lines[header + 3].split("|")] == ["RIDERLOCATIONS", "locations", "KAFKA", "JSON",
                                                                "false"]
    assert "Name                 : PAGEVIEWS\n Field    | Type                   \n" in out
    assert " USERID   | VARCHAR(STRING)  (key) \n" in out
    assert " VIEWTIME | BIGINT                 \n" in out
    assert "For runtime statistics and query details run: DESCRIBE <Stream,Table> EXTENDED;" in out
    assert out.endswith("ksql> Exiting ksqlDB.\n")
    history = (env[2] / ".ksql-history").read_text()
    assert ":CREATE STREAM pageviews (viewtime BIGINT, userid VARCHAR KEY, pageid VARCHAR)\\n  WITH" in history
    assert history.splitlines()[-1].endswith(":exit")


def test_push_query_with_local_properties(env):
    out = run_cli(env, "SET 'auto.offset.reset' = 'earliest';\n"
                       "SELECT profileId, latitude FROM riderLocations EMIT CHANGES LIMIT 2;\n"
                       "SET 'auto.offset.reset'='latest';\n"
                       "UNSET 'auto.offset.reset';\n"
                       "UNSET 'auto.offset.reset';\n")
    assert ("Successfully changed local property 'auto.offset.reset' to 'earliest'. Use the UNSET command to revert "
            "your change.\n") in out
    # 80 columns, 2 of them: cells of 38 characters between `+------+` rules
    rule = "+" + "-" * 38 + "+" + "-" * 38 + "+"
    assert f"{rule}\n|{'PROFILEID':<38}|{'LATITUDE':<38}|\n{rule}\n" in out
    rows = f"|{'c2309eec':<38}|{'37.7877':<38}|\n|{'18f4ea86':<38}|{'37.3903':<38}|\n"
    assert rows + "Limit Reached\nQuery terminated\n" in out
    assert "Successfully changed local property 'auto.offset.reset' from 'earliest' to 'latest'.\n" in out
    assert "Successfully unset local property 'auto.offset.reset' (value was 'latest').\n" in out
    assert "Cannot unset local property 'auto.offset.reset' which was never set in the first place\n" in out
    assert out.endswith("ksql> Exiting ksqlDB.\n")


def test_errors_as_ksqldb_prints_them(env):
    out = run_cli(env, "SELEC * FROM riderLocations;\nDESCRIBE nosuch;\nSHOW STREAMS;\n")
    assert "line 1:1: Syntax Error\nUnknown statement 'SELEC'\nDid you mean 'SELECT'?" in out
    assert "Could not find STREAM/TABLE 'NOSUCH' in the Metastore" in out
    assert " RIDERLOCATIONS " in out  # the session goes on after an error


def test_execute_file_and_run_script(env, tmp_path):
    out = run_cli(env, "", "-e", "SHOW TOPICS")
    assert "Having trouble" not in out  # no banner with -e
    lines = out.splitlines()
    assert [c.strip() for c in lines[1].split("|")] == ["Kafka Topic", "Partitions", "Replicas"]
    assert any([c.strip() for c in line.split("|")] == ["locations", "1", "1"] for line in lines)

    script = tmp_path / "script.sql"
    script.write_text("DEFINE stream = 'riderLocations';\n"
                      "-- a comment; with a semicolon\n"
                      "SELECT profileId FROM ${stream} EMIT CHANGES LIMIT 1;\n"
                      "SHOW VARIABLES;\n")
    out = run_cli(env, "", "--file", str(script), "--config-file", str(_props(tmp_path)))
    assert f"|{'c2309eec':<78}|\nLimit Reached\nQuery terminated\n" in out
    assert [c.strip() for c in out.splitlines()[-2].split("|")] == ["stream", "riderLocations"]

    run = tmp_path / "run.sql"
    run.write_text("CREATE STREAM clicks (id INT) WITH (kafka_topic='clicks', value_format='json', partitions=1);\n"
                   "SHOW STREAMS;\n")
    out = run_cli(env, f"RUN SCRIPT '{run}';\n")
    assert "CREATE STREAM clicks (id INT)" in out  # two entities: each printed after its statement
    assert " CLICKS " in out and " Stream created " in out


def test_print_topic(env):
    out = run_cli(env, "PRINT 'locations' FROM BEGINNING INTERVAL 2 LIMIT 2;\nPRINT nosuch;\n")
    lines = out.split("ksql> ")[1].splitlines()
    # 8-byte string keys also read as KAFKA_BIGINT and KAFKA_DOUBLE: ksqlDB prints them as the first, a BIGINT
    assert lines[0] == "Key format: KAFKA_BIGINT or KAFKA_DOUBLE or KAFKA_STRING"
    assert lines[1] == "Value format: JSON or KAFKA_STRING"
    bigint = struct.unpack(">q", b"c2309eec")[0]  # JSON values printed as written
    assert lines[2].startswith("rowtime: ") and lines[2].endswith(
        f", key: {bigint}, value: {json.dumps(RIDERS[0][1])}, partition: 0")
    assert '"profileId": "4ab5cbad"' in lines[3]  # INTERVAL 2: every other record
    assert lines[4:] == ["Topic printing ceased"]  # the server's empty keep-alive lines are not printed
    assert out.split("ksql> ")[2] == ("Could not find topic 'NOSUCH', or the KSQL user does not have permissions "
                                      "to list the topic. Topic names are case-sensitive.\n")


def _props(tmp_path: Path) -> Path:
    path = tmp_path / "cli.properties"
    path.write_text("auto.offset.reset=earliest\n")
    return path


def test_ctrl_c_ends_a_push_query_not_the_cli(env, tmp_path):
    _, k, home = env
    log = tmp_path / "cli.out"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([KSQL, f"http://127.0.0.1:{k.port}"], stdin=subprocess.PIPE, stdout=sink,
                                stderr=subprocess.STDOUT, env={**os.environ, "HOME": str(home), "COLUMNS": "80"})
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"SELECT * FROM riderLocations EMIT CHANGES;\n")
        proc.stdin.flush()
        wait_for(lambda: "|PROFILEID" in log.read_text(), what="the query's header")
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: "Query terminated\nksql> " in log.read_text(), what="the query to end")
        proc.stdin.write(b"SHOW STREAMS;\nexit\n")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    out = log.read_text()
    assert out.endswith("ksql> Exiting ksqlDB.\n")
    assert " RIDERLOCATIONS " in out.split("Query terminated")[1]


def test_unreachable_server(env):
    _, _, home = env
    done = subprocess.run([KSQL, "-e", "SHOW STREAMS;", "http://127.0.0.1:9"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "HOME": str(home)})
    assert "*" * 37 + "ERROR" + "*" * 38 in done.stdout
    assert "Remote server at http://127.0.0.1:9 does not appear to be a valid KSQL server." in done.stdout
    assert "Error issuing GET to KSQL server. path:/info" in done.stdout
    assert "Error issuing POST to KSQL server. path:/ksql" in done.stdout

