"""Windowed aggregates as ksqlDB's functional tests for windows have them (tumbling-windows.json,
hopping-windows.json, session-windows.json, window-bounds.json: each test names its case): a real SQL server over a
real broker, driven over REST, records written with kafka-python (explicit timestamps, 0 included) and the sink
topics read back with their windowed keys."""

from __future__ import annotations

import json
import struct

import pytest
from sql_helpers import consume, module_ksql, produce_at, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
BOUNDS_MESSAGE = ("Window bounds column WINDOWSTART can only be used in the SELECT clause of windowed aggregations "
                  "and can not be passed to aggregate functions.\nSee https://github.com/confluentinc/ksql/issues/4397")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-windows-qtt") as (broker, k):
        run_statements(k, ["CREATE STREAM test (ROWKEY INT KEY, IGNORED INT) WITH (kafka_topic='bounds_topic', "
                           "value_format='JSON', partitions=1);"])
        yield broker, k


def session_records(bootstrap: str, topic: str, count: int) -> list[tuple[int, str | None, int, int]]:
    """(key, value, window start, window end) of a session-windowed sink whose key is one 8-byte BIGINT/INT."""
    out = []
    for key, value in consume(bootstrap, topic, count):
        raw, (end, start) = key[:-16], struct.unpack(">qq", key[-16:])
        out.append((int.from_bytes(raw, "big", signed=True), None if value is None else value.decode(), start, end))
    return out


@pytest.mark.parametrize(("where", "statement", "message"), [
    # window-bounds.json "windowed group by - aggregate window bounds in UDAF in SELECT"
    ("udaf", "SELECT ROWKEY, count(1), min(windowstart), min(windowend) FROM test WINDOW TUMBLING (SIZE 1 SECOND) "
     "group by ROWKEY", BOUNDS_MESSAGE),
    # "windowed group by - aggregate window bounds in WHERE": before the window, the bounds are no columns
    ("where", "SELECT ROWKEY, count(1) as count FROM test WINDOW TUMBLING (SIZE 1 SECOND) WHERE min(windowEnd) < "
     "15000 group by ROWKEY", "Error in WHERE expression: Unknown column WINDOWEND."),
    # "windowed group by -  window bounds in GROUP BY" (and "only window bounds in GROUP BY": checked before the
    # SELECT's columns missing from the GROUP BY)
    ("group", "SELECT ROWKEY, count(1) as count FROM test WINDOW TUMBLING (SIZE 1 SECOND) group by ROWKEY, "
     "WINDOWSTART, WINDOWEND", BOUNDS_MESSAGE),
    ("only", "SELECT ROWKEY, count(1) as count FROM test WINDOW TUMBLING (SIZE 1 SECOND) group by WINDOWSTART",
     BOUNDS_MESSAGE),
    # "windowed group by - window bounds in expression in GROUP BY"
    ("expr", "SELECT ROWKEY, count(1) as count FROM test WINDOW TUMBLING (SIZE 1 SECOND) group by ROWKEY, "
     "WINDOWSTART / 1000, ABS(WINDOWEND)", BOUNDS_MESSAGE),
    # "windowed group by - window bounds in HAVING"
    ("having", "SELECT ROWKEY, count(1) as count FROM test WINDOW TUMBLING (SIZE 1 SECOND) group by ROWKEY HAVING "
     "windowStart > 11000 AND min(windowEnd) < 15000", BOUNDS_MESSAGE),
])
def test_window_bounds_outside_the_select_are_refused(env, where, statement, message):
    _, k = env
    status, body = k.ksql(f"CREATE TABLE s2_{where} AS {statement};")
    assert status == 400 and body["message"] == message, body


def test_window_bounds_in_the_select_are_accepted(env):
    _, k = env
    # window-bounds.json "windowed group by - window bounds used in expression with aggregate in SELECT"
    status, body = k.ksql("CREATE TABLE s2_ok AS SELECT ROWKEY, WINDOWSTART / 1000 AS ws, count(1) AS c FROM test "
                          "WINDOW TUMBLING (SIZE 1 SECOND) group by ROWKEY;")
    assert status == 200, body


def test_invalid_window_size_names_the_duration_and_unit(env):
    _, k = env
    # hopping-windows.json "import table with invalid window size"
    status, body = k.ksql("CREATE TABLE bobs (K STRING PRIMARY KEY, ID bigint) WITH (kafka_topic='bobs', "
                          "value_format='DELIMITED', WINDOW_TYPE='Hopping', WINDOW_SIZE='30 bobs', partitions=1);")
    assert status == 400, body
    assert body["message"] == ("Configuration WINDOW_SIZE is invalid: Invalid duration: '30 bobs'. Unknown time "
                               "unit: 'BOBS'\nSupported time units are: NANOSECONDS, MICROSECONDS, MILLISECONDS, "
                               "SECONDS, MINUTES, HOURS, DAYS")
    status, body = k.ksql("CREATE TABLE many (K STRING PRIMARY KEY, ID bigint) WITH (kafka_topic='many', "
                          "value_format='DELIMITED', WINDOW_TYPE='Tumbling', WINDOW_SIZE='30 SECONDS LATER', "
                          "partitions=1);")
    assert status == 400 and body["message"] == ("Configuration WINDOW_SIZE is invalid: Invalid duration: "
                                                 "'30 SECONDS LATER'. Expected 2 tokens, got: 3"), body


def test_a_session_past_its_retention_is_not_merged(env):
    broker, k = env
    # session-windows.json "out of order - explicit grace period": at stream time 100010 the session [0, 0] is
    # past gap + grace (90 s), so the record at 10010 opens a session of its own; 10009 comes too late
    run_statements(k, [
        "CREATE STREAM grace_in (ID BIGINT KEY, VALUE bigint) WITH (kafka_topic='grace_in', value_format='DELIMITED', "
        "partitions=1);",
        "CREATE TABLE grace_out WITH (kafka_topic='grace_out') AS SELECT ID, max(value) FROM grace_in "
        "WINDOW SESSION (30 SECONDS, GRACE PERIOD 1 MINUTE) group by id;"], EARLIEST)
    key = [struct.pack(">q", i) for i in (0, 1)]
    produce_at(broker.bootstrap, "grace_in", [
        (key[0], b"0", 0), (key[0], b"1", 100010), (key[0], b"5", 10009), (key[0], b"6", 10010),
        (key[1], b"100", 10009), (key[1], b"101", 10010), (key[1], b"200", 86412022), (key[1], b"200", 60000)])
    assert session_records(broker.bootstrap, "grace_out", 5) == [
        (0, "0", 0, 0), (0, "1", 100010, 100010), (0, "6", 10010, 10010), (1, "101", 10010, 10010),
        (1, "200", 86412022, 86412022)]


def test_sessions_of_a_regrouped_stream_from_timestamp_zero(env):
    broker, k = env
    # session-windows.json "session start stream" (with tumbling-windows.json's `COUNT()`): grouped by a value
    # column, the records travel through the GroupBy repartition topic and keep their timestamps, 0 included
    run_statements(k, [
        "CREATE STREAM data (USER_ID INT) WITH (kafka_topic='data', value_format='JSON', partitions=1);",
        "CREATE TABLE sessions AS SELECT USER_ID, COUNT() AS COUNT FROM data WINDOW SESSION (5 SECONDS) "
        "group by USER_ID;"], EARLIEST)
    produce_at(broker.bootstrap, "data", [(None, b'{"user_id": 5}', ts) for ts in (0, 1000, 2000, 70000)])
    got = [(k_, None if v is None else json.loads(v), s, e)
           for k_, v, s, e in session_records(broker.bootstrap, "SESSIONS", 6)]
    assert got == [(5, {"COUNT": 1}, 0, 0), (5, None, 0, 0), (5, {"COUNT": 2}, 0, 1000), (5, None, 0, 1000),
                   (5, {"COUNT": 3}, 0, 2000), (5, {"COUNT": 1}, 70000, 70000)]


def test_a_stream_select_passes_null_values_on(env):
    broker, k = env
    # session-windows.json "import session stream": a null value goes on with its (windowed) key; a WHERE drops it
    run_statements(k, [
        "CREATE STREAM imported (K INT KEY, ID bigint) WITH (kafka_topic='imported', value_format='DELIMITED', "
        "WINDOW_TYPE='SESSION', partitions=1);",
        "CREATE STREAM imported_copy AS SELECT * FROM imported;",
        "CREATE STREAM imported_some AS SELECT * FROM imported WHERE ID > 1;"], EARLIEST)

    def key(k_: int, start: int, end: int) -> bytes:
        return struct.pack(">iqq", k_, end, start)
    produce_at(broker.bootstrap, "imported", [
        (key(0, 0, 0), b"1", 0), (key(0, 0, 0), None, 0), (key(0, 0, 10000), b"2", 10000),
        (key(1, 10000, 10000), b"3", 10000)])
    assert session_records(broker.bootstrap, "IMPORTED_COPY", 4) == [
        (0, "1", 0, 0), (0, None, 0, 0), (0, "2", 0, 10000), (1, "3", 10000, 10000)]
    assert session_records(broker.bootstrap, "IMPORTED_SOME", 2) == [(0, "2", 0, 10000), (1, "3", 10000, 10000)]


def test_pull_queries_on_a_windowed_aggregate(env):
    broker, k = env
    # pull-queries-against-materialized-aggregates.json: "windowed - select star and ROWTIME", "system columns in
    # projection" (the bounds are key columns wherever selected), "text datetime window bounds", "text datetime +
    # timezone window bounds", "partial text datetime window bounds"
    run_statements(k, [
        "CREATE STREAM pq_in (ID STRING KEY, IGNORED INT) WITH (kafka_topic='pq_in', value_format='JSON', "
        "partitions=1);",
        "CREATE TABLE pq_agg AS SELECT ID, COUNT(1) AS COUNT FROM pq_in WINDOW TUMBLING(SIZE 1 SECOND) GROUP BY ID;"],
        EARLIEST)
    t0 = 1582501512000  # 2020-02-23T23:45:12Z
    produce_at(broker.bootstrap, "pq_in", [(b"10", b'{"IGNORED": 1}', t0 + 345), (b"10", b'{"IGNORED": 2}', t0 + 456),
                                           (b"10", b'{"IGNORED": 3}', t0 + 40_000), (b"11", b'{"IGNORED": 4}', t0)])

    def ask(sql: str) -> tuple[str, list]:
        from kafka_wire import wait_for

        got: list = []

        def answered() -> bool:
            status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": {}})
            got[:] = [status, json.loads(body)]
            return status == 200 and sum("row" in x for x in got[1]) == 2
        wait_for(answered, 30, interval=0.2, what=sql)
        return got[1][0]["header"]["schema"], sorted(x["row"]["columns"] for x in got[1] if "row" in x)

    schema, rows = ask("SELECT *, ROWTIME FROM pq_agg WHERE ID='10';")
    assert schema == ("`ID` STRING KEY, `WINDOWSTART` BIGINT KEY, `WINDOWEND` BIGINT KEY, `COUNT` BIGINT, "
                      "`ROWTIME` BIGINT")
    assert rows == [["10", t0, t0 + 1000, 2, t0 + 456], ["10", t0 + 40_000, t0 + 41_000, 1, t0 + 40_000]]
    schema, rows = ask("SELECT ROWTIME, ID, WINDOWSTART, WINDOWEND FROM pq_agg WHERE ID='10';")
    assert schema == "`ROWTIME` BIGINT, `ID` STRING KEY, `WINDOWSTART` BIGINT KEY, `WINDOWEND` BIGINT KEY"
    _, rows = ask("SELECT ID, COUNT FROM pq_agg WHERE '2020-02-22T23:45' <= WindowStart AND "
                  "WindowStart < '2020-02-24T24' AND ID='10';")
    assert rows == [["10", 1], ["10", 2]]
    status, _, body = k.request("POST", "/query", {"ksql": "SELECT COUNT FROM pq_agg WHERE ID='10' AND "
                                                   "WindowStart='2020-02-23T22:45:12.000-0100';"})
    assert status == 200 and [x["row"]["columns"] for x in json.loads(body) if "row" in x] == [[2]], body


def test_emit_final_without_grace_writes_at_the_window_end(env):
    broker, k = env
    # suppress.json "should emit at window end if no grace period given": EMIT FINAL without GRACE PERIOD has
    # none, so the record at 2 closes [0, 2)
    run_statements(k, [
        "CREATE STREAM final_in (ID STRING KEY, COL1 STRING) WITH (kafka_topic='final_in', value_format='JSON', "
        "partitions=1);",
        "CREATE TABLE final_out AS SELECT ID, COUNT(*) as COUNT FROM final_in WINDOW TUMBLING (SIZE 2 MILLISECONDS) "
        "GROUP BY ID EMIT FINAL;"], EARLIEST)
    produce_at(broker.bootstrap, "final_in", [(b"k1", b'{"COL1": "v1"}', ts) for ts in (0, 1, 2)])
    got = [(key[:-8], struct.unpack(">q", key[-8:])[0], json.loads(value))
           for key, value in consume(broker.bootstrap, "FINAL_OUT", 1)]
    assert got == [(b"k1", 0, {"COUNT": 2})]


def test_windowed_aggregates_over_a_json_struct_key(env):
    broker, k = env
    # group-by.json "windowed aggregate with struct key - JSON" (a single JSON key column is read unwrapped, a
    # STRUCT's object too) and "windowed aggregate with field within struct key" (`ID->F1` names the key F1)
    run_statements(k, [
        "CREATE STREAM skey (ID STRUCT<F1 INT, F2 INT> KEY, VAL INT) WITH (kafka_topic='skey', format='JSON', "
        "partitions=1);",
        "CREATE TABLE skey_whole AS SELECT ID, count(1) AS count FROM skey WINDOW TUMBLING (SIZE 1 SECOND) "
        "group by ID;",
        "CREATE TABLE skey_field AS SELECT ID->F1, count(1) AS count FROM skey WINDOW TUMBLING (SIZE 1 SECOND) "
        "group by ID->F1;"], EARLIEST)
    produce_at(broker.bootstrap, "skey", [(b'{"F1": 1, "F2": 1}', b'{"VAL": 0}', 0)] * 2)

    def records(topic: str) -> list:
        return [(json.loads(key[:-8]), struct.unpack(">q", key[-8:])[0], json.loads(value))
                for key, value in consume(broker.bootstrap, topic, 2)]
    assert records("SKEY_WHOLE") == [({"F1": 1, "F2": 1}, 0, {"COUNT": 1}), ({"F1": 1, "F2": 1}, 0, {"COUNT": 2})]
    assert records("SKEY_FIELD") == [(1, 0, {"COUNT": 1}), (1, 0, {"COUNT": 2})]
    status, body = k.ksql("DESCRIBE skey_field;")
    assert [f["name"] for f in body[0]["sourceDescription"]["fields"]] == ["F1", "COUNT"], body
