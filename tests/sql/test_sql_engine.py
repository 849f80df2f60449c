"""The engine against ksqlDB's documented results: each case's statements, input records and expected output records
are those of a ksqlDB functional test (query-validation-tests/<file>.json, named per test) or of ksqlDB's
quickstart, run through the REST API of a real SQL server over a real broker."""

from __future__ import annotations

import itertools
import json
import struct
import time

import pytest
from kafka_wire import wait_for
from sql_helpers import consume, module_ksql, produce_at, pull

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
_names = itertools.count()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-engine", {"ksql.streams.processing.guarantee": "exactly_once_v2"}
                     ) as (broker, k):
        yield broker, k


def run(env, statements: list[str]) -> str:
    """Create the statements (the last one a persistent query) with a fresh suffix on names; the suffix."""
    _, k = env
    suffix = f"_{next(_names)}"
    for text in statements:
        status, body = k.ksql(text.replace("{s}", suffix), EARLIEST)
        assert status == 200, body
    return suffix


def outputs(env, topic: str, count: int) -> list:
    broker, _ = env
    got = consume(broker.bootstrap, topic, count)
    assert len(got) == count, got
    assert len(consume(broker.bootstrap, topic, count + 1, timeout=1)) == count  # nothing more
    return got


def bigint(n: int) -> bytes:
    return struct.pack(">q", n)


def integer(n: int) -> bytes:
    return struct.pack(">i", n)


def windowed(key: bytes, start: int) -> bytes:
    return key + bigint(start)


def session_key(key: bytes, start: int, end: int) -> bytes:
    return key + bigint(end) + bigint(start)


def test_table_aggregate_retracts_when_a_row_changes_group(env):
    # group-by.json "field with re-key (table->table)"
    broker, _ = env
    s = run(env, ["CREATE TABLE TEST{s} (ID INT PRIMARY KEY, user INT, region VARCHAR) WITH "
                  "(kafka_topic='test_topic{s}', value_format='DELIMITED', partitions=1);",
                  "CREATE TABLE OUTPUT{s} AS SELECT region, COUNT(*) FROM TEST{s} GROUP BY region;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(integer(1), b"1,r0", None), (integer(2), b"2,r1", None),
                                                    (integer(3), b"3,r0", None), (integer(1), None, None),
                                                    (integer(2), b"2,r0", None)])
    assert outputs(env, f"OUTPUT{s}", 6) == [(b"r0", b"1"), (b"r1", b"1"), (b"r0", b"2"), (b"r0", b"1"),
                                             (b"r1", b"0"), (b"r0", b"2")]


def test_having_over_a_table_writes_tombstones(env):
    # group-by.json "with having expression (table->table)"
    broker, k = env
    s = run(env, ["CREATE TABLE TEST{s} (K STRING PRIMARY KEY, f0 INT, f1 INT) WITH (kafka_topic='test_topic{s}', "
                  "value_format='DELIMITED', partitions=1);",
                  "CREATE TABLE OUTPUT{s} AS SELECT f1, SUM(f0) FROM TEST{s} GROUP BY f1 HAVING COUNT(f1) > 0;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(b"1", b"1,0", 1), (b"2", b"2,1", 2), (b"1", None, 3),
                                                    (b"3", b"3,0", 4), (b"2", b"2,0", 5)])
    assert outputs(env, f"OUTPUT{s}", 6) == [(integer(0), b"1"), (integer(1), b"2"), (integer(0), None),
                                             (integer(0), b"3"), (integer(1), None), (integer(0), b"5")]
    # the table holds the groups HAVING keeps
    assert pull(k, f"SELECT * FROM OUTPUT{s};") == [[0, 5]]


def test_having_over_a_stream(env):
    # group-by.json "with having expression (stream->table)" and "udafs only in having (stream->table)"
    broker, _ = env
    s = run(env, ["CREATE STREAM TEST{s} (ID INT KEY, f1 INT) WITH (kafka_topic='test_topic{s}', "
                  "value_format='DELIMITED', partitions=1);",
                  "CREATE TABLE OUTPUT{s} AS SELECT f1, COUNT(*) FROM TEST{s} GROUP BY f1 HAVING SUM(f1) > 1;",
                  "CREATE TABLE OUTPUT2{s} AS SELECT f1, LEN(CAST(f1 AS STRING)) AS LEN FROM TEST{s} GROUP BY f1 "
                  "HAVING COUNT(f1) = 2;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(integer(i), str(v).encode(), None)
                                                    for i, v in [(1, 1), (2, 2), (1, 1), (2, 2), (3, 3)]])
    assert outputs(env, f"OUTPUT{s}", 4) == [(integer(2), b"1"), (integer(1), b"2"), (integer(2), b"2"),
                                             (integer(3), b"1")]
    assert outputs(env, f"OUTPUT2{s}", 2) == [(integer(1), b"1"), (integer(2), b"1")]


QUICKSTART = [("c2309eec", 37.7877, -122.4205), ("18f4ea86", 37.3903, -122.0643), ("4ab5cbad", 37.3952, -122.0813),
              ("8b6eae59", 37.3944, -122.0813), ("4a7c7b41", 37.4049, -122.0822), ("4ddad000", 37.7857, -122.4011)]


def test_quickstart_table_over_a_table_with_collect_list_and_count(env):
    # ksqlDB's quickstart: currentLocation (LATEST_BY_OFFSET) and ridersNearMountainView grouped over it
    _, k = env
    s = run(env, [
        "CREATE STREAM riderLocations{s} (profileId VARCHAR, latitude DOUBLE, longitude DOUBLE) "
        "WITH (kafka_topic='locations{s}', value_format='json', partitions=1);",
        "CREATE TABLE currentLocation{s} AS SELECT profileId, LATEST_BY_OFFSET(latitude) AS la, "
        "LATEST_BY_OFFSET(longitude) AS lo FROM riderlocations{s} GROUP BY profileId EMIT CHANGES;",
        "CREATE TABLE ridersNearMountainView{s} AS SELECT ROUND(GEO_DISTANCE(la, lo, 37.4133, -122.1162), -1) AS "
        "distanceInMiles, COLLECT_LIST(profileId) AS riders, COUNT(*) AS count FROM currentLocation{s} "
        "GROUP BY ROUND(GEO_DISTANCE(la, lo, 37.4133, -122.1162), -1);"])
    values = ", ".join(f"('{p}', {la}, {lo})" for p, la, lo in QUICKSTART)
    for p, la, lo in QUICKSTART:
        status, body = k.ksql(f"INSERT INTO riderLocations{s} (profileId, latitude, longitude) VALUES "
                              f"('{p}', {la}, {lo});")
        assert status == 200, (values, body)
    table = f"ridersNearMountainView{s}".upper()
    deadline = time.monotonic() + 30
    expected = [[0.0, ["4ab5cbad", "8b6eae59", "4a7c7b41"], 3], [10.0, ["18f4ea86"], 1]]
    while (got := sorted(pull(k, f"SELECT * FROM {table} WHERE distanceInMiles <= 10;"))) != expected:
        assert time.monotonic() < deadline, got
    # a rider moves to San Francisco: it leaves the 0 km group and joins the 50 km one
    assert k.ksql(f"INSERT INTO riderLocations{s} (profileId, latitude, longitude) VALUES "
                  "('4ab5cbad', 37.7877, -122.4205);")[0] == 200
    expected = [[0.0, ["8b6eae59", "4a7c7b41"], 2], [10.0, ["18f4ea86"], 1],
                [50.0, ["c2309eec", "4ddad000", "4ab5cbad"], 3]]
    while (got := sorted(pull(k, f"SELECT * FROM {table};"))) != expected:
        assert time.monotonic() < deadline, got


def test_min_max_over_a_table_is_refused(env):
    # group-by.json "non-table udaf on table"
    _, k = env
    s = run(env, ["CREATE TABLE INPUT{s} (ID BIGINT PRIMARY KEY, F0 INT, F1 BIGINT) WITH (kafka_topic='t{s}', "
                  "value_format='JSON', partitions=1);"])
    status, body = k.ksql(f"CREATE TABLE OUTPUT{s} AS SELECT ID, LATEST_BY_OFFSET(F0), MIN(F1), MAX(F1) FROM "
                          f"INPUT{s} GROUP BY ID;")
    assert status == 400 and body["message"] == ("The aggregation functions LATEST_BY_OFFSET, MIN and MAX cannot be "
                                                 "applied to a table source, only to a stream source.")


OUT_OF_ORDER = [(0, 0, 0), (0, 1, 89999), (0, 5, 10009), (0, 0, 90000), (0, 6, 10010), (1, 100, 10009),
                (1, 101, 30000), (1, 200, 86412022), (1, 200, 60000)]


def test_tumbling_window_with_grace_period(env):
    # tumbling-windows.json "out of order - explicit grace period"
    broker, k = env
    s = run(env, ["CREATE STREAM TEST{s} (ID BIGINT KEY, VALUE bigint) WITH (kafka_topic='test_topic{s}', "
                  "value_format='DELIMITED', partitions=1);",
                  "CREATE TABLE S2{s} as SELECT ID, max(value) FROM test{s} WINDOW TUMBLING (SIZE 30 SECONDS, "
                  "GRACE PERIOD 1 MINUTE) group by id;",
                  "CREATE TABLE S3{s} as SELECT ID, max(value) AS M FROM test{s} WINDOW TUMBLING (SIZE 30 SECONDS, "
                  "RETENTION 7 DAYS, GRACE PERIOD 1 MINUTE) group by id;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(bigint(key), str(v).encode(), ts) for key, v, ts in OUT_OF_ORDER])
    assert outputs(env, f"S2{s}", 6) == [
        (windowed(bigint(0), 0), b"0"), (windowed(bigint(0), 60000), b"1"), (windowed(bigint(0), 0), b"5"),
        (windowed(bigint(0), 90000), b"0"), (windowed(bigint(1), 30000), b"101"),
        (windowed(bigint(1), 86400000), b"200")]
    desc = k.ksql(f"DESCRIBE S2{s};")[1][0]["sourceDescription"]
    assert desc["windowType"] == "TUMBLING"
    # windowed pull queries: the window bounds come with the key, WINDOWSTART bounds select windows
    # (S2's windows of stream time 0 to 120000 are past their retention, size + grace, at 86412022)
    assert pull(k, f"SELECT * FROM S2{s};") == [[1, 86400000, 86430000, 200]]
    assert pull(k, f"SELECT * FROM S3{s} WHERE ID = 0;") == [[0, 0, 30000, 5], [0, 60000, 90000, 1],
                                                             [0, 90000, 120000, 0]]
    assert pull(k, f"SELECT WINDOWSTART, WINDOWEND, M FROM S3{s} WHERE ID = 0 AND WINDOWSTART >= 60000 AND "
                   "WINDOWSTART < 90000;") == [[60000, 90000, 1]]


def test_tumbling_window_default_grace(env):
    # tumbling-windows.json "out of order - no grace period": 24 hours of grace keep every record
    broker, _ = env
    s = run(env, ["CREATE STREAM TEST{s} (ID BIGINT KEY, VALUE bigint) WITH (kafka_topic='test_topic{s}', "
                  "value_format='DELIMITED', partitions=1);",
                  "CREATE TABLE S2{s} as SELECT ID, max(value) FROM test{s} WINDOW TUMBLING (SIZE 30 SECONDS) "
                  "group by id;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(bigint(key), str(v).encode(), ts) for key, v, ts in OUT_OF_ORDER])
    starts = [0, 60000, 0, 90000, 0, 0, 30000, 86400000, 60000]
    values = [b"0", b"1", b"5", b"0", b"6", b"100", b"101", b"200", b"200"]
    assert outputs(env, f"S2{s}", 9) == [(windowed(bigint(key), start), v) for (key, _, _), start, v
                                         in zip(OUT_OF_ORDER, starts, values, strict=True)]


def test_session_windows_merge_with_tombstones(env):
    # session-windows.json "out of order - no grace period"
    broker, _ = env
    s = run(env, ["CREATE STREAM TEST{s} (ID BIGINT KEY, VALUE bigint) WITH (kafka_topic='test_topic{s}', "
                  "value_format='DELIMITED', partitions=1);",
                  "CREATE TABLE S2{s} as SELECT ID, max(value) FROM test{s} WINDOW SESSION (30 SECONDS) group by id;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(bigint(key), str(v).encode(), ts) for key, v, ts in [
        (0, 0, 0), (0, 1, 70010), (0, 5, 10009), (0, 6, 10010), (1, 100, 10009), (1, 101, 10010),
        (1, 200, 86412022), (1, 200, 60000)]])
    k0, k1 = bigint(0), bigint(1)
    assert outputs(env, f"S2{s}", 11) == [
        (session_key(k0, 0, 0), b"0"), (session_key(k0, 70010, 70010), b"1"), (session_key(k0, 0, 0), None),
        (session_key(k0, 0, 10009), b"5"), (session_key(k0, 0, 10009), None), (session_key(k0, 0, 10010), b"6"),
        (session_key(k1, 10009, 10009), b"100"), (session_key(k1, 10009, 10009), None),
        (session_key(k1, 10009, 10010), b"101"), (session_key(k1, 86412022, 86412022), b"200"),
        (session_key(k1, 60000, 60000), b"200")]


def test_hopping_window_bounds_as_columns(env):
    # window-bounds.json "table hopping"
    broker, _ = env
    s = run(env, ["CREATE STREAM TEST{s} (ID BIGINT KEY, IGNORED STRING) WITH (kafka_topic='test_topic{s}', "
                  "value_format='DELIMITED', partitions=1);",
                  "CREATE TABLE S2{s} as SELECT ID, WindowStart as wstart, WindowEnd as wend, COUNT(1) AS Count "
                  "FROM test{s} WINDOW HOPPING (SIZE 30 SECONDS, ADVANCE BY 5 SECONDS) group by id;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(bigint(0), b"0", 0), (bigint(100), b"100", 2000),
                                                    (bigint(0), b"0", 4999), (bigint(0), b"0", 5000)])
    assert outputs(env, f"S2{s}", 5) == [
        (windowed(bigint(0), 0), b"0,30000,1"), (windowed(bigint(100), 0), b"0,30000,1"),
        (windowed(bigint(0), 0), b"0,30000,2"), (windowed(bigint(0), 0), b"0,30000,3"),
        (windowed(bigint(0), 5000), b"5000,35000,1")]


def test_emit_final_hopping(env):
    # suppress.json "should support final results for hopping windows"
    broker, _ = env
    s = run(env, ["CREATE STREAM INPUT{s} (ID STRING KEY, COL1 STRING) WITH (kafka_topic='input_topic{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE TABLE OUTPUT{s} AS SELECT ID, COUNT(*) as COUNT FROM INPUT{s} WINDOW HOPPING (SIZE 5 "
                  "MILLISECONDS,ADVANCE BY 2 MILLISECONDS, GRACE PERIOD 1 MILLISECONDS) GROUP BY ID EMIT FINAL;"])
    produce_at(broker.bootstrap, f"input_topic{s}", [(b"k1", b'{"COL1": "v1"}', ts) for ts in (0, 1, 2, 1, 6, 5, 10)])
    assert outputs(env, f"OUTPUT{s}", 2) == [(windowed(b"k1", 0), b'{"COUNT":4}'),
                                             (windowed(b"k1", 4), b'{"COUNT":2}')]


def test_emit_final_session(env):
    # suppress.json "should support final results for session windows"
    broker, _ = env
    s = run(env, ["CREATE STREAM INPUT{s} (ID STRING KEY, COL1 STRING) WITH (kafka_topic='input_topic{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE TABLE OUTPUT{s} AS SELECT ID, COUNT(*) as COUNT FROM INPUT{s} WINDOW SESSION (5 "
                  "MILLISECONDS, GRACE PERIOD 6 MILLISECONDS) GROUP BY ID EMIT FINAL;"])
    produce_at(broker.bootstrap, f"input_topic{s}", [(b"k1", b'{"COL1": "v1"}', ts)
                                                     for ts in (0, 4, 8, 12, 14, 30, 29, 17, 42)])
    assert outputs(env, f"OUTPUT{s}", 2) == [(session_key(b"k1", 0, 14), b'{"COUNT":5}'),
                                             (session_key(b"k1", 29, 30), b'{"COUNT":2}')]


def test_emit_final_tumbling_drops_windows_past_retention(env):
    # suppress.json "should support final results for tumbling windows" and "... with large jump"
    broker, _ = env
    s = run(env, ["CREATE STREAM INPUT{s} (ID STRING KEY, COL1 STRING) WITH (kafka_topic='input_topic{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE TABLE OUTPUT{s} AS SELECT ID, COUNT(*) as COUNT FROM INPUT{s} WINDOW TUMBLING (SIZE 2 "
                  "MILLISECONDS, GRACE PERIOD 1 MILLISECONDS) GROUP BY ID EMIT FINAL;",
                  "CREATE TABLE OUTPUT2{s} AS SELECT ID, COUNT(*) as COUNT FROM INPUT{s} WINDOW TUMBLING (SIZE 2 "
                  "MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY ID EMIT FINAL;"])
    produce_at(broker.bootstrap, f"input_topic{s}", [(b"k1", b'{"COL1": "v1"}', ts) for ts in (0, 1, 2, 1, 0, 5)])
    assert outputs(env, f"OUTPUT{s}", 1) == [(windowed(b"k1", 2), b'{"COUNT":1}')]
    # "should emit final result immediately at window end if grace is specified as zero"; [2, 4) is past its
    # retention (size + grace) when stream time jumps to 5
    assert outputs(env, f"OUTPUT2{s}", 1) == [(windowed(b"k1", 0), b'{"COUNT":2}')]


@pytest.mark.parametrize("sql, message", [
    ("CREATE TABLE X{s} AS SELECT ID, COUNT(*) as COUNT FROM INPUT{s} GROUP BY ID EMIT FINAL;",
     "EMIT FINAL is only supported for windowed aggregations."),
    ("CREATE TABLE X{s} AS SELECT ID, COL1 FROM INPUT{s} WINDOW TUMBLING (SIZE 2 MILLISECONDS) GROUP BY ID;",
     "GROUP BY requires aggregate functions in either the SELECT or HAVING clause."),
    ("CREATE TABLE X{s} AS SELECT ID, COUNT(*) FROM INPUT{s} WINDOW TUMBLING (SIZE 2 MILLISECONDS) EMIT FINAL;",
     "Non-aggregate SELECT expression(s) not part of GROUP BY"),
])
def test_window_errors(env, sql, message):
    # suppress.json "should throw ..."
    _, k = env
    s = run(env, ["CREATE STREAM INPUT{s} (ID STRING KEY, COL1 STRING) WITH (kafka_topic='input_topic{s}', "
                  "value_format='JSON', partitions=1);"])
    status, body = k.ksql(sql.replace("{s}", s))
    assert status == 400 and message in body["message"], body


def js(value: dict) -> bytes:
    return json.dumps(value).encode()


def decoded(records: list) -> list:
    return [(struct.unpack(">q", k)[0], None if v is None else json.loads(v)) for k, v in records]


SS_INPUTS = [("left", 0, {"NAME": "zero", "VALUE": 0}, 0), ("right", 0, {"F1": "blah", "F2": 50}, 10000),
             ("left", 10, {"NAME": "100", "VALUE": 5}, 11000), ("left", 0, {"NAME": "foo", "VALUE": 100}, 13000),
             ("right", 0, {"F1": "a", "F2": 10}, 15000), ("right", 100, {"F1": "newblah", "F2": 150}, 16000),
             ("left", 90, {"NAME": "ninety", "VALUE": 90}, 17000), ("left", 0, {"NAME": "bar", "VALUE": 99}, 30000)]


def two_sides(env, left_kind: str, right_kind: str, query: str, partitions: tuple[int, int] = (1, 1)) -> str:
    lk = "KEY" if left_kind == "STREAM" else "PRIMARY KEY"
    rk = "KEY" if right_kind == "STREAM" else "PRIMARY KEY"
    return run(env, [f"CREATE {left_kind} TEST{{s}} (ID BIGINT {lk}, NAME varchar, VALUE bigint) WITH "
                     f"(kafka_topic='left_topic{{s}}', value_format='JSON', partitions={partitions[0]});",
                     f"CREATE {right_kind} TEST_R{{s}} (ID BIGINT {rk}, F1 varchar, F2 bigint) WITH "
                     f"(kafka_topic='right_topic{{s}}', value_format='JSON', partitions={partitions[1]});", query])


def committed_by_a_query(admin, topic: str, offset: int) -> bool:  # noqa: ANN001
    """Some query's group has committed past `offset` of partition 0 of `topic` (its record is processed)."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    groups = [g.group_id for g in admin.list_consumer_groups(request_timeout=10).result().valid
              if g.group_id.startswith("_confluent-ksql-")]
    for g in groups:
        request = [ConsumerGroupTopicPartitions(g, [TopicPartition(topic, 0)])]
        for future in admin.list_consumer_group_offsets(request, request_timeout=10).values():
            if any(tp.offset > offset for tp in future.result().topic_partitions):
                return True
    return False


def feed(env, s: str, inputs: list) -> None:
    from confluent_kafka.admin import AdminClient

    broker, _ = env
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    produce_at(broker.bootstrap, f"left_topic{s}", [])
    produced = {"left": 0, "right": 0}
    previous = None
    for side, key, value, ts in inputs:  # one record at a time, in order across both topics
        if previous is not None and previous[0] != side and previous[1] == ts:
            # equal timestamps on both sides: Kafka Streams' order between them is whichever it fetched first
            # (ksqlDB's test driver feeds one record at a time); wait until the earlier one is processed
            topic, offset = f"{previous[0]}_topic{s}", produced[previous[0]] - 1
            wait_for(lambda t=topic, o=offset: committed_by_a_query(admin, t, o), timeout=60,
                     interval=0.2, what=f"{topic} offset {offset} processed")
        produce_at(broker.bootstrap, f"{side}_topic{s}", [(bigint(key), js(value), ts)])
        produced[side] += 1
        previous = (side, ts)


def test_stream_stream_inner_join(env):
    # joins.json "stream stream inner join"
    s = two_sides(env, "STREAM", "STREAM", "CREATE STREAM INNER_JOIN{s} as SELECT t.id as ID, name, value, f1, f2 "
                                           "FROM test{s} t join TEST_R{s} tt WITHIN 11 SECONDS ON t.id = tt.id;")
    feed(env, s, SS_INPUTS)
    assert decoded(outputs(env, f"INNER_JOIN{s}", 3)) == [
        (0, {"NAME": "zero", "VALUE": 0, "F1": "blah", "F2": 50}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "blah", "F2": 50}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "a", "F2": 10})]


def test_stream_stream_left_join(env):
    # joins.json "stream stream left join" (no GRACE PERIOD: an unmatched left row is written at once)
    s = two_sides(env, "STREAM", "STREAM", "CREATE STREAM LEFT_JOIN{s} as SELECT t.id, name, value, f1, f2 FROM "
                                           "test{s} t left join TEST_R{s} tt WITHIN 11 seconds ON t.id = tt.id;")
    feed(env, s, SS_INPUTS)
    none = {"F1": None, "F2": None}
    assert decoded(outputs(env, f"LEFT_JOIN{s}", 7)) == [
        (0, {"NAME": "zero", "VALUE": 0, **none}), (0, {"NAME": "zero", "VALUE": 0, "F1": "blah", "F2": 50}),
        (10, {"NAME": "100", "VALUE": 5, **none}), (0, {"NAME": "foo", "VALUE": 100, "F1": "blah", "F2": 50}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "a", "F2": 10}), (90, {"NAME": "ninety", "VALUE": 90, **none}),
        (0, {"NAME": "bar", "VALUE": 99, **none})]


def test_stream_stream_full_outer_join_with_grace_period(env):
    # joins.json "stream stream full outer join with out of order and custom grace period"
    s = run(env, ["CREATE STREAM LEFT_STREAM{s} (id BIGINT KEY, l1 VARCHAR) WITH (kafka_topic='left_topic{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE STREAM RIGHT_STREAM{s} (id BIGINT KEY, l2 VARCHAR) WITH (kafka_topic='right_topic{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE STREAM OUTER_JOIN{s} as SELECT ROWKEY as ID, t.id, tt.id, l1, l2 FROM LEFT_STREAM{s} t "
                  "full outer join RIGHT_STREAM{s} tt WITHIN 1 minute GRACE PERIOD 1 minute on t.id = tt.id;"])
    feed(env, s, [("left", 0, {"L1": "A"}, 0), ("right", 0, {"L2": "a"}, 60000), ("right", 1, {"L2": "b"}, 330000),
                  ("right", 2, {"L2": "c"}, 90000), ("left", 2, {"L1": "C"}, 90000), ("right", 3, {"L2": "d"}, 60000),
                  ("left", 3, {"L1": "D"}, 60000)])
    # late records (stream time 330000 is past their windows and grace) join nothing: outer sides write them
    # unmatched; B's window is still open, so it is not written.  (The order across the two topics follows the
    # timestamps of the records the task holds, so it is compared as a set.)
    expected = [(0, {"T_ID": 0, "TT_ID": 0, "L1": "A", "L2": "a"}),
                (2, {"T_ID": None, "TT_ID": 2, "L1": None, "L2": "c"}),
                (2, {"T_ID": 2, "TT_ID": None, "L1": "C", "L2": None}),
                (3, {"T_ID": None, "TT_ID": 3, "L1": None, "L2": "d"}),
                (3, {"T_ID": 3, "TT_ID": None, "L1": "D", "L2": None})]
    assert sorted(decoded(outputs(env, f"OUTER_JOIN{s}", 5)), key=json.dumps) == sorted(expected, key=json.dumps)


ST_INPUTS = [("right", 0, {"F1": "zero", "F2": 0}, 0), ("right", 10, {"F1": "100", "F2": 5}, 10000),
             ("left", 0, {"NAME": "blah", "VALUE": 50}, 10000), ("left", 0, {"NAME": "foo", "VALUE": 100}, 10000),
             ("right", 0, {"F1": "a", "F2": 10}, 15000), ("left", 0, {"NAME": "bar", "VALUE": 99}, 15000),
             ("left", 90, {"NAME": "ninety", "VALUE": 90}, 15000)]


def test_stream_table_left_join(env):
    # joins.json "stream table left join"
    s = two_sides(env, "STREAM", "TABLE", "CREATE STREAM LEFT_JOIN{s} as SELECT t.id, name, value, f1, f2 FROM "
                                          "test{s} t left join test_r{s} tt on t.id = tt.id;")
    feed(env, s, ST_INPUTS)
    assert decoded(outputs(env, f"LEFT_JOIN{s}", 4)) == [
        (0, {"NAME": "blah", "VALUE": 50, "F1": "zero", "F2": 0}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "zero", "F2": 0}),
        (0, {"NAME": "bar", "VALUE": 99, "F1": "a", "F2": 10}),
        (90, {"NAME": "ninety", "VALUE": 90, "F1": None, "F2": None})]


TT_INPUTS = [("left", 0, {"NAME": "zero", "VALUE": 0}, 0), ("right", 0, {"F1": "blah", "F2": 50}, 10000),
             ("left", 10, {"NAME": "100", "VALUE": 5}, 11000), ("left", 0, {"NAME": "foo", "VALUE": 100}, 13000),
             ("right", 0, {"F1": "a", "F2": 10}, 15000), ("right", 15, {"F1": "c", "F2": 20}, 15500),
             ("left", 0, {"NAME": "bar", "VALUE": 99}, 16000)]


def test_table_table_joins(env):
    # joins.json "table table inner join" and "table table outer join"
    s = two_sides(env, "TABLE", "TABLE", "CREATE TABLE INNER_JOIN{s} as SELECT t.id, name, value, f1, f2 FROM "
                                         "test{s} t join TEST_R{s} tt on t.id = tt.id;")
    _, k = env
    status, body = k.ksql(f"CREATE TABLE OUTER_JOIN{s} as SELECT ROWKEY AS ID, name, value, f1, f2 FROM test{s} t "
                          f"FULL OUTER join TEST_R{s} tt on t.id = tt.id;", EARLIEST)
    assert status == 200, body
    feed(env, s, TT_INPUTS)
    assert decoded(outputs(env, f"INNER_JOIN{s}", 4)) == [
        (0, {"NAME": "zero", "VALUE": 0, "F1": "blah", "F2": 50}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "blah", "F2": 50}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "a", "F2": 10}), (0, {"NAME": "bar", "VALUE": 99, "F1": "a", "F2": 10})]
    assert decoded(outputs(env, f"OUTER_JOIN{s}", 7)) == [
        (0, {"NAME": "zero", "VALUE": 0, "F1": None, "F2": None}),
        (0, {"NAME": "zero", "VALUE": 0, "F1": "blah", "F2": 50}),
        (10, {"NAME": "100", "VALUE": 5, "F1": None, "F2": None}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "blah", "F2": 50}),
        (0, {"NAME": "foo", "VALUE": 100, "F1": "a", "F2": 10}),
        (15, {"NAME": None, "VALUE": None, "F1": "c", "F2": 20}),
        (0, {"NAME": "bar", "VALUE": 99, "F1": "a", "F2": 10})]


def test_join_on_a_value_column_repartitions(env):
    broker, k = env
    s = run(env, ["CREATE STREAM ORDERS{s} (ID STRING KEY, CUSTOMER BIGINT, ITEM STRING) WITH "
                  "(kafka_topic='orders{s}', value_format='JSON', partitions=2);",
                  "CREATE TABLE CUSTOMERS{s} (ID BIGINT PRIMARY KEY, NAME STRING) WITH (kafka_topic='customers{s}', "
                  "value_format='JSON', partitions=2);",
                  "CREATE STREAM ENRICHED{s} AS SELECT o.customer, item, name FROM orders{s} o JOIN customers{s} c "
                  "ON o.customer = c.id;"])
    from sql_helpers import produce

    produce(broker.bootstrap, f"customers{s}", [(bigint(1), js({"NAME": "ann"})), (bigint(2), js({"NAME": "bob"}))])
    # the table's rows are in before the orders: a stream-table join looks the table up when the order arrives
    query_id = next(q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"] if q["sinks"] == [f"ENRICHED{s}"])
    repartition = f"_confluent-ksql-default_query_{query_id}-Join-repartition"
    produce(broker.bootstrap, f"orders{s}", [(b"o1", js({"CUSTOMER": 2, "ITEM": "tea"})),
                                             (b"o2", js({"CUSTOMER": 1, "ITEM": "jam"}))])
    got = sorted(decoded(outputs(env, f"ENRICHED{s}", 2)), key=lambda r: r[0])
    assert got == [(1, {"ITEM": "jam", "NAME": "ann"}), (2, {"ITEM": "tea", "NAME": "bob"})]
    assert len(consume(broker.bootstrap, repartition, 2)) == 2


@pytest.mark.parametrize("query, message", [
    ("CREATE STREAM X{s} AS SELECT * FROM test{s} t JOIN test_r{s} r ON t.id = r.id;",
     "Can't join `TEST{s}` with `TEST_R{s}` since the number of partitions don't match. `TEST{s}` partitions = 1; "
     "`TEST_R{s}` partitions = 2. Please repartition either one so that the number of partitions match."),
    ("CREATE STREAM X{s} AS SELECT * FROM test{s} t FULL JOIN test_r{s} r ON t.id = r.id;",
     # stream-table-join.json "Should fail on outer-join": ksqlDB prints the join type as [FULL] OUTER JOIN
     "Invalid join type: full-outer join not supported for stream-table join. Got TEST{s} [FULL] OUTER JOIN "
     "TEST_R{s}."),
    ("CREATE STREAM X{s} AS SELECT * FROM test{s} t JOIN test_r{s} r ON t.id = r.id AND t.id = r.id;",
     "Invalid join condition: joins on multiple conditions are not yet supported."),
    ("CREATE STREAM X{s} AS SELECT * FROM test{s} t JOIN test_r{s} r WITHIN 1 SECOND ON t.id = r.id;",
     "A window definition was provided for a Stream-Table join."),
])
def test_join_errors(env, query, message):
    _, k = env
    s = two_sides(env, "STREAM", "TABLE", "SHOW STREAMS;", partitions=(1, 2))
    status, body = k.ksql(query.replace("{s}", s))
    assert status == 400 and message.replace("{s}", s) in body["message"], body


def test_explode_and_generated_names(env):
    # explode.json "explode array with values" and "udfs with table functions and no aliases ..."
    broker, _ = env
    s = run(env, ["CREATE STREAM TEST{s} (ID STRING KEY, MY_ARR ARRAY<BIGINT>, F1 BIGINT, F2 BIGINT) WITH "
                  "(kafka_topic='test_topic{s}', value_format='JSON', partitions=1);",
                  "CREATE STREAM OUTPUT{s} AS SELECT ID, EXPLODE(MY_ARR) VAL FROM TEST{s};",
                  "CREATE STREAM OUTPUT2{s} AS SELECT ID, ABS(F1), EXPLODE(MY_ARR), ABS(F2) FROM TEST{s};"])
    arrays = [[1, 2], [3, 4], [5], [], [6], None, [7]]
    produce_at(broker.bootstrap, f"test_topic{s}", [(str(i).encode(), js({"MY_ARR": a, "F1": -1, "F2": 2}), None)
                                                    for i, a in enumerate(arrays)])
    assert [(k_, json.loads(v)) for k_, v in outputs(env, f"OUTPUT{s}", 7)] == [
        (b"0", {"VAL": 1}), (b"0", {"VAL": 2}), (b"1", {"VAL": 3}), (b"1", {"VAL": 4}), (b"2", {"VAL": 5}),
        (b"4", {"VAL": 6}), (b"6", {"VAL": 7})]
    assert json.loads(outputs(env, f"OUTPUT2{s}", 7)[0][1]) == {"KSQL_COL_0": 1, "KSQL_COL_1": 1, "KSQL_COL_2": 2}


def test_topk_count_distinct_and_histogram_over_a_table(env):
    # topk-group-by.json "topk integer", count-distinct.json "count distinct", histogram.json "histogram on a table"
    broker, _ = env
    s = run(env, ["CREATE STREAM TEST{s} (ID BIGINT KEY, NAME varchar, VALUE integer) WITH "
                  "(kafka_topic='test_topic{s}', value_format='JSON', partitions=1);",
                  "CREATE TABLE S2{s} as SELECT ID, topk(value, 3) as topk, count_distinct(value) as cd FROM test{s} "
                  "group by id;",
                  "CREATE TABLE REGIONS{s} (K STRING PRIMARY KEY, ID bigint, NAME varchar, REGION string) WITH "
                  "(kafka_topic='regions{s}', value_format='JSON', partitions=1);",
                  "CREATE TABLE COUNT_BY_REGION{s} AS SELECT region, histogram(name) AS COUNTS FROM REGIONS{s} "
                  "GROUP BY region;"])
    produce_at(broker.bootstrap, f"test_topic{s}", [(bigint(0), js({"NAME": "zero", "VALUE": v}), None)
                                                    for v in (0, 100, 99, 7, 100)])
    assert [json.loads(v) for _, v in outputs(env, f"S2{s}", 5)] == [
        {"TOPK": [0], "CD": 1}, {"TOPK": [100, 0], "CD": 2}, {"TOPK": [100, 99, 0], "CD": 3},
        {"TOPK": [100, 99, 7], "CD": 4}, {"TOPK": [100, 100, 99], "CD": 4}]
    people = [("0", {"ID": 0, "NAME": "alice", "REGION": "east"}), ("1", {"ID": 1, "NAME": "bob", "REGION": "east"}),
              ("2", {"ID": 2, "NAME": "carol", "REGION": "west"}), ("3", {"ID": 3, "NAME": "dave", "REGION": "west"}),
              ("1", {"ID": 1, "NAME": "bob", "REGION": "west"}), ("1", None)]
    produce_at(broker.bootstrap, f"regions{s}", [(k_.encode(), None if v is None else js(v), None) for k_, v in people])
    assert [(k_, json.loads(v)) for k_, v in outputs(env, f"COUNT_BY_REGION{s}", 7)] == [
        (b"east", {"COUNTS": {"alice": 1}}), (b"east", {"COUNTS": {"alice": 1, "bob": 1}}),
        (b"west", {"COUNTS": {"carol": 1}}), (b"west", {"COUNTS": {"carol": 1, "dave": 1}}),
        (b"east", {"COUNTS": {"alice": 1}}), (b"west", {"COUNTS": {"carol": 1, "dave": 1, "bob": 1}}),
        (b"west", {"COUNTS": {"carol": 1, "dave": 1}})]


def test_partition_by_insert_into_and_the_group_by_repartition_topic(env):
    broker, k = env
    # partition-by.json: the sink's key is the PARTITION BY expression, placed with murmur2
    s = run(env, ["CREATE STREAM INPUT{s} (ID INT KEY, NAME STRING) with (kafka_topic='input{s}', "
                  "value_format='JSON', partitions=2);",
                  "CREATE STREAM OUTPUT{s} AS select NAME, ID from INPUT{s} partition by NAME;",
                  "CREATE STREAM INPUT2{s} (ID INT KEY, NAME STRING) with (kafka_topic='input2{s}', "
                  "value_format='JSON', partitions=1);",
                  "INSERT INTO OUTPUT{s} SELECT NAME, ID FROM INPUT2{s} PARTITION BY NAME;",
                  "CREATE TABLE BY_NAME{s} AS SELECT NAME, COUNT(*) AS N FROM OUTPUT{s} GROUP BY NAME;",
                  "CREATE TABLE BY_ID{s} AS SELECT ID, COUNT(*) AS N FROM OUTPUT{s} GROUP BY ID;"])
    produce_at(broker.bootstrap, f"input{s}", [(integer(10), js({"NAME": "bob"}), None)])
    produce_at(broker.bootstrap, f"input2{s}", [(integer(11), js({"NAME": "bob"}), None)])
    got = outputs(env, f"OUTPUT{s}", 2)
    assert sorted((k_, json.loads(v)["ID"]) for k_, v in got) == [(b"bob", 10), (b"bob", 11)]
    desc = k.ksql(f"DESCRIBE OUTPUT{s};")[1][0]["sourceDescription"]
    assert [(f["name"], f.get("type")) for f in desc["fields"]] == [("NAME", "KEY"), ("ID", None)]
    queries = {q["sinks"][0]: q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"]}
    assert any(q.startswith("INSERTQUERY_") for q in queries.values())
    # the aggregate reads OUTPUT's records after the sink has them: under load, a later poll
    wait_for(lambda: pull(k, f"SELECT * FROM BY_NAME{s};") == [["bob", 2]], 30, what="BY_NAME's count of both")
    # grouped by a value column: re-keyed through ksqlDB's repartition topic; by the key: no repartition
    topics = broker_topics(broker)
    prefix = "_confluent-ksql-default_query_"
    assert f"{prefix}{queries[f'BY_ID{s}']}-Aggregate-GroupBy-repartition" in topics
    assert f"{prefix}{queries[f'BY_NAME{s}']}-Aggregate-GroupBy-repartition" not in topics
    # BY_ID's rows come through the repartition topic: a later poll than BY_NAME's under load
    wait_for(lambda: sorted(pull(k, f"SELECT * FROM BY_ID{s};")) == [[10, 1], [11, 1]], 30,
             what="BY_ID's rows through the repartition topic")


def broker_topics(broker) -> set:
    from confluent_kafka.admin import AdminClient

    return set(AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics)


FK_INPUTS = [("left", 1, {"NAME": "zero", "FOREIGN_KEY": 0}, 0), ("right", 0, {"F1": "blah", "F2": 4}, 10000),
             ("left", 1, {"NAME": "zero", "FOREIGN_KEY": 0}, 11000),
             ("left", 0, {"NAME": "foo", "FOREIGN_KEY": 100}, 13000),
             ("right", 0, {"F1": "a", "F2": 10}, 15000), ("left", 10, {"NAME": "bar", "FOREIGN_KEY": 0}, 16000),
             ("right", 0, None, 17000), ("left", 1, None, 18000), ("left", 0, None, 19000)]


def test_foreign_key_left_join(env):
    # fk-join.json "Should support left join with left value-column expression" (partition counts may differ)
    broker, _ = env
    s = run(env, ["CREATE TABLE left_table{s} (l_id BIGINT PRIMARY KEY, name VARCHAR, foreign_key BIGINT) WITH "
                  "(kafka_topic='left_topic{s}', value_format='JSON', partitions=1);",
                  "CREATE TABLE right_table{s} (r_id BIGINT PRIMARY KEY, f1 VARCHAR, f2 BIGINT) WITH "
                  "(kafka_topic='right_topic{s}', value_format='JSON', partitions=2);",
                  "CREATE TABLE output{s} AS SELECT l_id, r_id, name, f1 FROM left_table{s} LEFT JOIN "
                  "right_table{s} ON foreign_key = r_id;"])
    for side, key, value, ts in FK_INPUTS:
        produce_at(broker.bootstrap, f"{side}_topic{s}", [(bigint(key), None if value is None else js(value), ts)])
    none = {"R_ID": None, "F1": None}
    assert decoded(outputs(env, f"OUTPUT{s}", 10)) == [
        (1, {"NAME": "zero", **none}), (1, {"R_ID": 0, "NAME": "zero", "F1": "blah"}),
        (1, {"R_ID": 0, "NAME": "zero", "F1": "blah"}), (0, {"NAME": "foo", **none}),
        (1, {"R_ID": 0, "NAME": "zero", "F1": "a"}), (10, {"R_ID": 0, "NAME": "bar", "F1": "a"}),
        (1, {"NAME": "zero", **none}), (10, {"NAME": "bar", **none}), (1, None), (0, None)]
