"""N-way joins, joins of windowed sources, GROUP BY over a join and pull queries on joined tables, against
ksqlDB's functional tests: each case's statements, input records and expected output records are those of the
ksqlDB test named in its comment (query-validation-tests/multi-joins.json unless another file is named), run through
the REST API of a real SQL server over a real broker.  Inputs are written before the query starts, so that the
query takes them in timestamp order across its topics, as ksqlDB's test driver feeds them."""

from __future__ import annotations

import itertools
import json
import struct

import pytest
from sql_helpers import consume, module_ksql, produce_at
from sql_helpers import pull as pull_rows

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
PREFIX = "_confluent-ksql-default_query_"
_names = itertools.count()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-multijoin") as (broker, k):
        yield broker, k


def run(env, statements: list[str], suffix: str | None = None) -> str:
    _, k = env
    suffix = suffix or f"_{next(_names)}"
    for text in statements:
        status, body = k.ksql(text.replace("{s}", suffix), EARLIEST)
        assert status == 200, body
    return suffix


def integer(n: int) -> bytes:
    return struct.pack(">i", n)


def js(value: dict | None) -> bytes | None:
    return None if value is None else json.dumps(value).encode()


def feed(env, s: str, inputs: list[tuple[str, bytes | None, dict | None, int]]) -> None:
    broker, _ = env
    for topic, key, value, ts in inputs:
        produce_at(broker.bootstrap, f"{topic}{s}", [(key, js(value), ts)])


def outputs(env, topic: str, count: int) -> list:
    broker, _ = env
    got = consume(broker.bootstrap, topic, count)
    assert len(got) == count, got
    assert len(consume(broker.bootstrap, topic, count + 1, timeout=1)) == count  # nothing more
    return [(k, None if v is None else json.loads(v)) for k, v in got]


def schema(env, name: str) -> list[tuple[str, str | None]]:
    _, k = env
    desc = k.ksql(f"DESCRIBE {name};")[1][0]["sourceDescription"]
    return [(f["name"], f.get("type")) for f in desc["fields"]]


def query_id(env, sink: str) -> str:
    _, k = env
    return next(q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"] if q["sinks"] == [sink])


def topics(env) -> set[str]:
    from confluent_kafka.admin import AdminClient

    broker, _ = env
    return set(AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics)


def pull(env, sql: str) -> list:
    return pull_rows(env[1], sql)


def sources(kinds: str) -> list[str]:
    """S1/T1, S2/T2, S3/T3 (ID INT KEY, V0 BIGINT) over the topics left, right and right2, as the tests declare."""
    out = []
    for n, (kind, topic) in enumerate(zip(kinds, ("left", "right", "right2"), strict=True), start=1):
        word, key = ("STREAM", "KEY") if kind == "S" else ("TABLE", "PRIMARY KEY")
        out.append(f"CREATE {word} {kind}{n}{{s}} (ID INT {key}, V0 bigint) WITH (kafka_topic='{topic}{{s}}', "
                   "value_format='JSON', partitions=1);")
    return out


def test_stream_table_table_left_left(env):
    # "stream-table-table - left-left"
    s = run(env, sources("STT"))
    feed(env, s, [("left", integer(0), {"V0": 1}, 9), ("right", integer(0), {"V0": 2}, 10),
                  ("left", integer(0), {"V0": 1}, 11), ("right2", integer(0), {"V0": 3}, 12),
                  ("left", integer(0), {"V0": 1}, 13)])
    run(env, ["CREATE STREAM OUTPUT{s} as SELECT S1{s}.ID, s1{s}.V0, t2{s}.V0, t3{s}.V0 FROM S1{s} LEFT JOIN T2{s} "
              "ON S1{s}.ID = T2{s}.ID LEFT JOIN T3{s} ON S1{s}.ID = T3{s}.ID;"], s)
    v = f"S1{s}_V0", f"T2{s}_V0", f"T3{s}_V0"
    assert outputs(env, f"OUTPUT{s}", 3) == [
        (integer(0), dict(zip(v, (1, None, None), strict=True))),
        (integer(0), dict(zip(v, (1, 2, None), strict=True))), (integer(0), dict(zip(v, (1, 2, 3), strict=True)))]
    assert schema(env, f"OUTPUT{s}") == [(f"S1{s}_ID", "KEY"), *((c, None) for c in v)]
    # the tables' stores, named with ksqlDB's L_ context for the inner join step
    qid = query_id(env, f"OUTPUT{s}")
    assert {f"{PREFIX}{qid}-KafkaTopic_L_Right-Reduce-changelog",
            f"{PREFIX}{qid}-KafkaTopic_Right-Reduce-changelog"} <= topics(env)


def test_stream_table_table_rekey_with_different_expressions(env):
    # "stream-table-table - inner-inner - rekey with different expression": the stream is re-keyed before each
    # step, through L_Join-repartition and Join-repartition
    s = run(env, ["CREATE STREAM S1{s} (ID INT KEY, K INT, V0 bigint) WITH (kafka_topic='left{s}', "
                  "value_format='JSON', partitions=1);", *sources("STT")[1:]])
    feed(env, s, [("right2", integer(3), {"V0": 3}, 10), ("right", integer(1), {"V0": 2}, 11),
                  ("left", integer(0), {"k": 2, "V0": 1}, 12)])
    run(env, ["CREATE STREAM OUTPUT{s} as SELECT T3{s}.ID, s1{s}.V0, t2{s}.V0, t3{s}.V0 FROM S1{s} JOIN T2{s} ON "
              "S1{s}.K - 1 = T2{s}.ID JOIN T3{s} ON S1{s}.K + 1 = T3{s}.ID;"], s)
    assert outputs(env, f"OUTPUT{s}", 1) == [(integer(3), {f"S1{s}_V0": 1, f"T2{s}_V0": 2, f"T3{s}_V0": 3})]
    assert schema(env, f"OUTPUT{s}")[0] == (f"T3{s}_ID", "KEY")
    qid = query_id(env, f"OUTPUT{s}")
    assert {f"{PREFIX}{qid}-L_Join-repartition", f"{PREFIX}{qid}-Join-repartition"} <= topics(env)


def test_stream_stream_stream_left_left(env):
    # "stream-stream-stream - left-left" (no GRACE PERIOD: unmatched left rows are written at once)
    s = run(env, sources("SSS"))
    feed(env, s, [("left", integer(0), {"V0": 1}, 0), ("right", integer(0), {"V0": 2}, 1),
                  ("right2", integer(0), {"V0": 3}, 2), ("left", integer(0), {"V0": 4}, 3)])
    run(env, ["CREATE STREAM OUTPUT{s} AS SELECT s2{s}.id, s1{s}.v0, s2{s}.v0, s3{s}.v0 FROM s1{s} LEFT JOIN s2{s} "
              "WITHIN 5 SECONDS ON s1{s}.id = s2{s}.id LEFT JOIN S3{s} WITHIN 10 SECONDS ON s1{s}.id = s3{s}.id;"], s)
    v = f"S1{s}_V0", f"S2{s}_V0", f"S3{s}_V0"
    expected = [((1, None, None), 0), ((1, 2, None), 1), ((1, None, 3), 2), ((1, 2, 3), 2), ((4, 2, 3), 3)]
    assert outputs(env, f"OUTPUT{s}", 5) == [(integer(0), dict(zip(v, r, strict=True))) for r, _ in expected]
    assert schema(env, f"OUTPUT{s}")[0] == (f"S2{s}_ID", "KEY")
    qid = query_id(env, f"OUTPUT{s}")
    # Kafka Streams' window stores, numbered as in ksqlDB's plan of this test
    assert {f"{PREFIX}{qid}-{n}-changelog" for n in (
        "KSTREAM-JOINTHIS-0000000008-store", "KSTREAM-OUTEROTHER-0000000009-store",
        "KSTREAM-JOINTHIS-0000000016-store", "KSTREAM-OUTEROTHER-0000000017-store")} <= topics(env)


def test_stream_stream_stream_inner_inner_different_windows(env):
    # "stream-stream-stream - inner-inner - different windows"
    s = run(env, sources("SSS"))
    feed(env, s, [("left", integer(0), {"V0": 1}, 0), ("right", integer(0), {"V0": 2}, 1),
                  ("right2", integer(0), {"V0": 3}, 2), ("left", integer(0), {"V0": 4}, 3),
                  ("left", integer(0), {"V0": 5}, 4000), ("right2", integer(0), {"V0": 6}, 6000),
                  ("left", integer(0), {"V0": 7}, 6001), ("right2", integer(0), {"V0": 8}, 7000)])
    run(env, ["CREATE STREAM OUTPUT{s} AS SELECT s2{s}.id, s1{s}.v0, s2{s}.v0, s3{s}.v0 FROM S1{s} JOIN S2{s} "
              "WITHIN 5 SECONDS ON s1{s}.id = s2{s}.id JOIN S3{s} WITHIN 10 SECONDS ON s1{s}.id = s3{s}.id;"], s)
    v = f"S1{s}_V0", f"S2{s}_V0", f"S3{s}_V0"
    rows = [(1, 2, 3), (4, 2, 3), (5, 2, 3), (1, 2, 6), (4, 2, 6), (5, 2, 6), (1, 2, 8), (4, 2, 8), (5, 2, 8)]
    assert outputs(env, f"OUTPUT{s}", 9) == [(integer(0), dict(zip(v, r, strict=True))) for r in rows]


def test_table_table_table_inner_full_and_pull_queries(env):
    # "table-table-table - inner-full"; the pull query is that of rest-query-validation-tests/
    # pull-queries-against-materialized-table-table-joins.json "table-table-table - inner-full"
    s = run(env, sources("TTT"))
    feed(env, s, [("left", integer(0), {"V0": 1}, 0), ("right2", integer(0), {"V0": 3}, 2),
                  ("right", integer(0), {"V0": 2}, 3), ("left", integer(0), {"V0": 4}, 1000)])
    run(env, ["CREATE TABLE OUTPUT{s} as SELECT ROWKEY AS ID, T1{s}.V0, T2{s}.V0, T3{s}.V0 FROM T1{s} JOIN T2{s} ON "
              "T1{s}.ID = T2{s}.ID FULL JOIN T3{s} ON T1{s}.ID = T3{s}.ID;"], s)
    v = f"T1{s}_V0", f"T2{s}_V0", f"T3{s}_V0"
    assert outputs(env, f"OUTPUT{s}", 3) == [(integer(0), dict(zip(v, r, strict=True)))
                                             for r in ((None, None, 3), (1, 2, 3), (4, 2, 3))]
    assert schema(env, f"OUTPUT{s}") == [("ID", "KEY"), *((c, None) for c in v)]
    assert pull(env, f"SELECT * FROM OUTPUT{s};") == [[0, 4, 2, 3]]
    assert pull(env, f"SELECT * FROM OUTPUT{s} WHERE ID = 0;") == [[0, 4, 2, 3]]
    assert pull(env, f"SELECT * FROM OUTPUT{s} WHERE ID = 1;") == []
    # pull-queries-against-materialized-aggregates.json: a pull query itself may not join
    _, k = env
    status, _, body = k.request("POST", "/query", {"ksql": f"SELECT * FROM T1{s} JOIN T2{s} ON T1{s}.ID = T2{s}.ID;",
                                                   "streamsProperties": {}})
    assert status == 400 and json.loads(body)["message"] == (
        "Pull queries don't support JOIN clauses. See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if "
        "you intended to issue a push query."), body
    qid = query_id(env, f"OUTPUT{s}")
    assert {f"{PREFIX}{qid}-{n}-changelog" for n in (
        "KafkaTopic_L_Left-Reduce", "KafkaTopic_L_Right-Reduce", "KafkaTopic_Right-Reduce", "Project-Last")
            } <= topics(env)


def test_group_by_over_a_table_table_join(env):
    # group-by.json "on join" (there in AVRO): a change of the joined row leaves its group and joins it again
    s = run(env, ["CREATE TABLE t1{s} (ID BIGINT PRIMARY KEY, TOTAL integer) WITH (kafka_topic='T1{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE TABLE t2{s} (ID BIGINT PRIMARY KEY, TOTAL integer) WITH (kafka_topic='T2{s}', "
                  "value_format='JSON', partitions=1);"])
    big = [struct.pack(">q", n) for n in (0, 1)]
    feed(env, s, [("T1", big[0], {"total": 100}, 1), ("T1", big[1], {"total": 101}, 2),
                  ("T2", big[0], {"total": 5}, 3), ("T2", big[1], {"total": 10}, 4),
                  ("T2", big[0], {"total": 20}, 5), ("T2", big[0], None, 6)])
    run(env, ["CREATE TABLE OUTPUT{s} AS SELECT t1{s}.ID, SUM(t1{s}.total + CASE WHEN t2{s}.total IS NULL THEN 0 "
              "ELSE t2{s}.total END) as SUM FROM T1{s} LEFT JOIN T2{s} ON (t1{s}.ID = t2{s}.ID) GROUP BY t1{s}.ID "
              "HAVING COUNT(1) > 0;"], s)
    expected = [(0, 100), (1, 101), (0, 105), (1, 111), (0, 120), (0, 100)]
    assert outputs(env, f"OUTPUT{s}", 6) == [(big[k], {"SUM": v}) for k, v in expected]
    assert schema(env, f"OUTPUT{s}") == [(f"T1{s}_ID", "KEY"), ("SUM", None)]
    # the aggregate is materialized: pull queries read it
    assert pull(env, f"SELECT * FROM OUTPUT{s} WHERE T1{s}_ID = 1;") == [[1, 111]]


def test_windowed_group_by_over_a_stream_table_join(env):
    # group-by.json "windowed join": grouped by the join key, so no GroupBy repartition
    s = run(env, ["CREATE TABLE A{s} (id varchar primary key, regionid varchar) WITH (kafka_topic='a{s}', "
                  "value_format='json', partitions=1);",
                  "CREATE STREAM B{s} (id varchar) WITH (kafka_topic='b{s}', value_format='json', partitions=1);"])
    feed(env, s, [("a", b"1", {"id": "1", "regionid": "one"}, 0), *[("b", None, {"Id": "1"}, 0)] * 3])
    run(env, ["CREATE TABLE test{s} AS SELECT a{s}.id, COUNT(*) as count FROM B{s} LEFT JOIN A{s} ON "
              "a{s}.id = b{s}.id WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY a{s}.id HAVING COUNT(*) > 2;"], s)
    assert outputs(env, f"TEST{s}", 1) == [(b"1" + struct.pack(">q", 0), {"COUNT": 3})]
    qid = query_id(env, f"TEST{s}")
    names = topics(env)
    assert f"{PREFIX}{qid}-Join-repartition" in names
    assert f"{PREFIX}{qid}-Aggregate-GroupBy-repartition" not in names


def test_synthetic_join_key(env):
    # joins.json "full join - with both join column in projection" and "aliased synthetic join key": no source
    # column holds a FULL join's key, nor that of a join on two expressions: ksqlDB's ROWKEY, first in SELECT *
    s = run(env, ["CREATE STREAM L{s} (A INT KEY, B INT, C INT) WITH (kafka_topic='LEFT{s}', value_format='JSON', "
                  "partitions=1);", "CREATE STREAM R{s} (A INT KEY, B INT, C INT) WITH (kafka_topic='RIGHT{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE STREAM OUTPUT{s} AS SELECT * FROM L{s} FULL OUTER JOIN R{s} WITHIN 10 SECONDS ON "
                  "L{s}.A = R{s}.A;",
                  "CREATE STREAM OUTPUT2{s} AS SELECT ROWKEY AS A, l{s}.B, l{s}.C, r{s}.* FROM L{s} INNER JOIN R{s} "
                  "WITHIN 10 SECONDS ON ABS(L{s}.A) = ABS(R{s}.A);"])
    columns = [f"{side}{s}_{c}" for side in ("L", "R") for c in "ABC"]
    assert schema(env, f"OUTPUT{s}") == [("ROWKEY", "KEY"), *((c, None) for c in columns)]
    assert schema(env, f"OUTPUT2{s}") == [("A", "KEY"), *((c, None) for c in columns if c != f"L{s}_A")]


def test_session_windowed_sources_join_on_key_and_window(env):
    # joins.json "matching session-windowed": windowed keys join when the key and the session's bounds match; the
    # result is keyed by the key and the left's window
    s = run(env, [f"CREATE STREAM S{n}{{s}} (ID INT KEY, V bigint) WITH (kafka_topic='{side}{{s}}', value_format="
                  "'JSON', WINDOW_TYPE='SESSION', partitions=1);" for n, side in ((1, "left"), (2, "right"))])

    def session(start: int, end: int) -> bytes:
        return integer(1) + struct.pack(">qq", end, start)
    feed(env, s, [("left", session(234, 765), {"V": 1}, 765), ("right", session(234, 567), {"V": 2}, 567),
                  ("right", session(234, 765), {"V": 3}, 765)])
    run(env, ["CREATE STREAM OUTPUT{s} as SELECT S1{s}.ID, S1{s}.V, S2{s}.V FROM S1{s} JOIN S2{s} WITHIN 1 MINUTE ON "
              "S1{s}.ID = S2{s}.ID;"], s)
    assert outputs(env, f"OUTPUT{s}", 1) == [(session(234, 765), {f"S1{s}_V": 1, f"S2{s}_V": 3})]
    _, k = env
    assert k.ksql(f"DESCRIBE OUTPUT{s};")[1][0]["sourceDescription"]["windowType"] == "SESSION"


def test_join_key_is_the_left_sources_when_both_are_projected(env):
    # joins.json "stream stream inner join with stars and duplicates": the key is the first join expression the
    # projection names, the left source's first (TT is the left source here), whatever the projection's order
    s = run(env, ["CREATE STREAM TEST{s} (ID BIGINT KEY, NAME varchar, VALUE bigint) WITH (kafka_topic='left{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE STREAM TEST_STREAM{s} (ID BIGINT KEY, F1 varchar, F2 bigint) WITH (kafka_topic='right{s}', "
                  "value_format='JSON', partitions=1);",
                  "CREATE STREAM INNER_JOIN{s} as SELECT t.*, t.F1 AS F1_2, tt.*, tt.NAME AS NAME_2 FROM test{s} tt "
                  "inner join TEST_STREAM{s} t WITHIN 11 SECONDS ON t.id = tt.id;"])
    assert schema(env, f"INNER_JOIN{s}") == [("TT_ID", "KEY"), *((c, None) for c in (
        "T_ID", "T_F1", "T_F2", "F1_2", "TT_NAME", "TT_VALUE", "NAME_2"))]


def test_keyless_sources_and_single_value_sinks(env):
    # joins.json "stream-table val-to-key - keyless": a keyless (NONE) left source's join result takes the table's
    # key format; "stream-stream value-to-value - keyless": two keyless sides, re-keyed in the default key format
    # (here the request's DELIMITED)
    s = run(env, ["CREATE TABLE T{s} (ID INT PRIMARY KEY, VAL STRING) WITH (kafka_topic='t{s}', key_format='KAFKA', "
                  "value_format='JSON', partitions=1);",
                  "CREATE STREAM S{s} (ID INT, FOO INT) WITH (kafka_topic='s{s}', key_format='NONE', "
                  "value_format='JSON', partitions=1);",
                  "CREATE STREAM S2{s} (ID INT, VAL STRING) WITH (kafka_topic='s2{s}', key_format='NONE', "
                  "value_format='JSON', partitions=1);"])
    feed(env, s, [("t", integer(10), {"VAL": "hello"}, 1), ("s", None, {"ID": 10, "foo": 22}, 2),
                  ("s2", None, {"ID": 10, "VAL": "hello"}, 3)])
    run(env, ["CREATE STREAM OUTPUT{s} AS SELECT S{s}.ID, VAL FROM S{s} LEFT JOIN T{s} ON S{s}.ID = T{s}.ID;"], s)
    assert outputs(env, f"OUTPUT{s}", 1) == [(integer(10), {"VAL": "hello"})]
    _, k = env
    status, body = k.ksql(f"CREATE STREAM OUTPUT2{s} AS SELECT S{s}.ID, S2{s}.VAL FROM S{s} LEFT OUTER JOIN S2{s} "
                          f"WITHIN 10 SECONDS ON S{s}.ID = S2{s}.ID;",
                          {**EARLIEST, "ksql.persistence.default.format.key": "DELIMITED"})
    assert status == 200, body
    assert outputs(env, f"OUTPUT2{s}", 2) == [(b"10", {"VAL": None}), (b"10", {"VAL": "hello"})]
    # joins.json "stream to stream unwrapped single field value schema on inputs and output"
    s = run(env, [f"CREATE STREAM {n}{{s}} (ID BIGINT KEY, NAME STRING) WITH (WRAP_SINGLE_VALUE=false, kafka_topic="
                  f"'{n}{{s}}', value_format='JSON', partitions=1);" for n in ("U1", "U2")])
    big = struct.pack(">q", 0)
    feed(env, s, [("U1", big, "a", 0), ("U2", big, "b", 10), ("U1", big, None, 20), ("U2", big, None, 30)])
    run(env, ["CREATE STREAM OUTPUT{s} WITH (WRAP_SINGLE_VALUE=false) AS SELECT u1{s}.id, u1{s}.name name FROM U1{s} "
              "JOIN U2{s} WITHIN 1 second ON u1{s}.id = u2{s}.id;"], s)
    assert outputs(env, f"OUTPUT{s}", 1) == [(big, "a")]


def test_table_table_join_where_and_synthetic_key_name(env):
    # joins.json "table table join with where clause": a row the WHERE drops becomes a tombstone only when the
    # sink had its key
    s = run(env, ["CREATE TABLE TEST{s} (id BIGINT PRIMARY KEY, name VARCHAR, value BIGINT) WITH (kafka_topic="
                  "'left{s}', value_format='JSON', partitions=1);",
                  "CREATE TABLE TEST_TABLE{s} (id BIGINT PRIMARY KEY, f1 VARCHAR, f2 BIGINT) WITH (kafka_topic="
                  "'right{s}', value_format='JSON', partitions=1);"])
    big = [struct.pack(">q", n) for n in (0, 90)]
    feed(env, s, [("left", big[0], {"NAME": "zero", "VALUE": 0}, 0), ("right", big[0], {"F1": "blah", "F2": 4}, 10000),
                  ("left", big[0], {"NAME": "foo", "VALUE": 100}, 13000),
                  ("right", big[0], {"F1": "a", "F2": 10}, 15000),
                  ("left", big[0], {"NAME": "bar", "VALUE": 99}, 16000),
                  ("left", big[1], {"NAME": "ninety", "VALUE": 90}, 17000),
                  ("right", big[1], {"F1": "b", "F2": 10}, 18000), ("right", big[1], None, 19000)])
    run(env, ["CREATE TABLE OUTPUT{s} as SELECT t.id, name, tt.f1, f2 FROM test{s} t JOIN test_table{s} tt ON "
              "t.id = tt.id WHERE t.value > 10 AND tt.f2 > 5;"], s)
    assert outputs(env, f"OUTPUT{s}", 4) == [
        (big[0], {"NAME": "foo", "F1": "a", "F2": 10}), (big[0], {"NAME": "bar", "F1": "a", "F2": 10}),
        (big[1], {"NAME": "ninety", "F1": "b", "F2": 10}), (big[1], None)]
    # joins.json "with generated column name clashes": the synthetic key is ROWKEY_<n>, n the first free
    s = run(env, ["CREATE TABLE L{s} (ROWKEY INT PRIMARY KEY, ROWKEY_1 INT, ROWKEY_2 INT) WITH (kafka_topic="
                  "'left{s}', value_format='JSON', partitions=1);",
                  "CREATE TABLE R{s} (ROWKEY_3 INT PRIMARY KEY, ROWKEY_4 INT, ROWKEY_5 INT) WITH (kafka_topic="
                  "'right{s}', value_format='JSON', partitions=1);"])
    feed(env, s, [("left", integer(1), {"ROWKEY_1": 2, "ROWKEY_2": 3}, 1),
                  ("right", integer(1), {"ROWKEY_4": 4, "ROWKEY_5": 5}, 100)])
    run(env, ["CREATE TABLE OUTPUT{s} as SELECT ROWKEY_6, L{s}.ROWKEY, R{s}.ROWKEY_3, L{s}.ROWKEY_1, R{s}.ROWKEY_5 "
              "FROM L{s} FULL OUTER JOIN R{s} on L{s}.ROWKEY = R{s}.ROWKEY_3;"], s)
    assert outputs(env, f"OUTPUT{s}", 2) == [
        (integer(1), {"ROWKEY": 1, "ROWKEY_3": None, "ROWKEY_1": 2, "ROWKEY_5": None}),
        (integer(1), {"ROWKEY": 1, "ROWKEY_3": 1, "ROWKEY_1": 2, "ROWKEY_5": 5})]
    assert schema(env, f"OUTPUT{s}")[0] == ("ROWKEY_6", "KEY")


def test_join_errors_name_the_position(env, error_sources):
    # joins.json "stream stream right join - invalid left join expression - field does not exist" and "Should fail
    # on ambiguous join attribute": ksqlDB's `Line: l, Col: c` of the column in the request (statements a line each)
    _, k = env
    s = error_sources
    first = f"CREATE STREAM X{s} (ID INT KEY, V INT) WITH (kafka_topic='x{s}', value_format='JSON', partitions=1);"
    query = f"CREATE STREAM OUTPUT{s} as SELECT * FROM M1{s} t RIGHT JOIN M2{s} tt WITHIN 1 SECOND ON t.iid = tt.id;"
    status, body = k.ksql(first + "\n" + query)
    assert status == 400 and body["message"] == (
        f"Line: 2, Col: {query.index('t.iid') + 1}: JOIN ON column 'T.IID' cannot be resolved."), body
    query = f"CREATE TABLE OUTPUT{s} AS SELECT * FROM T2{s} JOIN T3{s} ON id = id;"
    status, body = k.ksql(query)
    assert status == 400 and body["message"] == (
        f"Exception while preparing statement: Line: 1, Col: {query.index('id = id') + 1}: Column 'ID' is ambiguous. "
        f"Could be T2{s}.ID or T3{s}.ID."), body
    # "Should fail on unknown qualifier -- right join attribute": the qualifier is checked first
    status, body = k.ksql(f"CREATE TABLE OUTPUT{s} AS SELECT * FROM T2{s} JOIN T3{s} ON id = unknown.id;")
    assert status == 400 and body["message"] == (
        "Failed to prepare statement: 'UNKNOWN' is not a valid stream/table name or alias."), body


def test_timestamp_columns_of_sources_and_sinks(env):
    # join-with-custom-timestamp.json "stream stream inner join with ts": S1's records take their time from TS
    # (11 s after the right record, so within the window, where their Kafka timestamps are 22 s apart), and the
    # sink's records are written at their TS
    from confluent_kafka import Consumer

    s = run(env, ["CREATE STREAM S1{s} (ID BIGINT KEY, NAME varchar, TS bigint) WITH (timestamp='TS', kafka_topic="
                  "'s1{s}', value_format='JSON', partitions=1);",
                  "CREATE STREAM S2{s} (ID BIGINT KEY, F1 varchar, F2 varchar) WITH (kafka_topic='s2{s}', "
                  "value_format='JSON', partitions=1);"])
    big = struct.pack(">q", 10)
    feed(env, s, [("s2", big, {"F1": "foo", "F2": "bar"}, 1000), ("s1", big, {"NAME": "100", "TS": 12000}, 23000)])
    run(env, ["CREATE STREAM S1_JOIN_S2{s} WITH(timestamp='TS') as SELECT S1{s}.ID, S1{s}.name as name, S1{s}.ts as "
              "ts, s2{s}.f1, s2{s}.f2 from S1{s} join S2{s} WITHIN 11 SECONDS ON s1{s}.id = s2{s}.id;"], s)
    assert outputs(env, f"S1_JOIN_S2{s}", 1) == [(big, {"NAME": "100", "TS": 12000, "F1": "foo", "F2": "bar"})]
    broker, _ = env
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"ts{s}", "auto.offset.reset": "earliest"})
    try:
        c.subscribe([f"S1_JOIN_S2{s}"])
        msgs = [m for m in c.consume(1, 30) if not m.error()]
    finally:
        c.close()
    assert [m.timestamp()[1] for m in msgs] == [12000]


@pytest.fixture(scope="module")
def error_sources(env) -> str:
    windowed = {"W1": "WINDOW_TYPE='SESSION'", "W2": "WINDOW_TYPE='TUMBLING', WINDOW_SIZE='1 SECOND'",
                "W3": "WINDOW_TYPE='HOPPING', WINDOW_SIZE='5 SECONDS'", "W4": "WINDOW_TYPE='SESSION'"}
    return run(env, [*sources("STT"), "CREATE TABLE T4{s} (ID INT PRIMARY KEY, V0 bigint) WITH (kafka_topic="
                                      "'right4{s}', value_format='JSON', partitions=2);",
                     "CREATE STREAM M1{s} (ID INT KEY, L0 MAP<STRING, INT>, L1 STRUCT<F1 MAP<STRING, INT>>) WITH "
                     "(kafka_topic='m1{s}', format='JSON', partitions=1);",
                     "CREATE STREAM M2{s} (ID INT KEY, R0 MAP<STRING, INT>, R1 STRUCT<F1 MAP<STRING, INT>>) WITH "
                     "(kafka_topic='m2{s}', format='JSON', partitions=1);",
                     *(f"CREATE STREAM {name}{{s}} (ID INT KEY, V INT) WITH (kafka_topic='{name.lower()}{{s}}', "
                       f"value_format='JSON', partitions=1, {props});" for name, props in windowed.items())])


@pytest.mark.parametrize("query, message", [
    # "inner-inner - missing join columns in projection"
    ("CREATE STREAM OUTPUT{s} as SELECT s1{s}.V0, t2{s}.V0, t3{s}.V0 FROM S1{s} INNER JOIN T2{s} ON "
     "S1{s}.ID = T2{s}.ID INNER JOIN T3{s} ON S1{s}.ID = T3{s}.ID;",
     "The query used to build `OUTPUT{s}` must include the join expressions S1{s}.ID, T2{s}.ID or T3{s}.ID in its "
     "projection (eg, SELECT S1{s}.ID...)."),
    # "left-left with expression in first - missing join columns in projection"
    ("CREATE STREAM OUTPUT{s} as SELECT s1{s}.V0, t2{s}.V0, t3{s}.V0 FROM S1{s} LEFT JOIN T2{s} ON "
     "S1{s}.ID + 1 = T2{s}.ID LEFT JOIN T3{s} ON S1{s}.ID = T3{s}.ID;",
     "The query used to build `OUTPUT{s}` must include the join expressions S1{s}.ID or T3{s}.ID in its projection "
     "(eg, SELECT S1{s}.ID...)."),
    # "inner-inner with expression in second - missing join columns in projection"
    ("CREATE STREAM OUTPUT{s} as SELECT s1{s}.V0, t2{s}.V0, t3{s}.V0 FROM S1{s} INNER JOIN T2{s} ON "
     "S1{s}.ID = T2{s}.ID INNER JOIN T3{s} ON S1{s}.ID + 1 = T3{s}.ID;",
     "The query used to build `OUTPUT{s}` must include the join expression T3{s}.ID in its projection (eg, SELECT "
     "T3{s}.ID...)."),
    # "self join with multiple sources"
    ("CREATE STREAM OUTPUT{s} as SELECT * FROM S1{s} JOIN T2{s} ON S1{s}.V0 = T2{s}.V0 JOIN T3{s} ON "
     "S1{s}.V0 = S1{s}.V0;",
     "Each side of the join must reference exactly one source and not the same source. Left side references "
     "`S1{s}` and right references `S1{s}`"),
    # "criteria that does not use the joined source"
    ("CREATE STREAM OUTPUT{s} as SELECT * FROM S1{s} JOIN T2{s} ON S1{s}.ID = T2{s}.ID JOIN T3{s} ON "
     "S1{s}.ID = T2{s}.ID;",
     "A join criteria is expected to reference the source (`T3{s}`) in the FROM clause, instead the right source "
     "references `T2{s}` and the left source references `S1{s}`"),
    # "table-table-stream - Invalid"
    ("CREATE STREAM OUTPUT{s} as SELECT * FROM T2{s} JOIN T3{s} ON T2{s}.ID = T3{s}.ID JOIN S1{s} ON "
     "T2{s}.ID = S1{s}.ID;",
     "Invalid join order: table-stream joins are not supported; only stream-table joins. Got T2{s} [INNER] JOIN "
     "S1{s}."),
    # "join on literal"
    ("CREATE STREAM OUTPUT{s} as SELECT S1{s}.ID, s1{s}.V0, t2{s}.V0 FROM S1{s} JOIN T2{s} ON S1{s}.ID = 0 JOIN "
     "T3{s} ON S1{s}.ID = T3{s}.ID;",
     "Invalid comparison expression '0' in join '(S1{s}.ID = 0)'. Each side of the join comparision must contain "
     "references from exactly one source."),
    # "duplicate source"
    ("CREATE STREAM OUTPUT{s} as SELECT * FROM S1{s} JOIN T2{s} ON S1{s}.ID = T2{s}.ID JOIN T2{s} ON "
     "S1{s}.V0 = T2{s}.V0;",
     "N-way joins do not support multiple occurrences of the same source. Source: 'T2{s}'"),
    # joins.json "should not allow complex join conditions"
    ("CREATE STREAM OUTPUT{s} as SELECT * FROM S1{s} JOIN T2{s} ON S1{s}.ID = T2{s}.ID AND S1{s}.ID = T2{s}.ID;",
     "Invalid join condition: joins on multiple conditions are not yet supported. Got ((S1{s}.ID = T2{s}.ID) AND "
     "(S1{s}.ID = T2{s}.ID))."),
    # joins.json "stream stream left join - invalid left join expression - field does not exist"
    ("CREATE STREAM OUTPUT{s} as SELECT * FROM S1{s} JOIN T2{s} ON S1{s}.IID = T2{s}.ID;",
     "JOIN ON column 'S1{s}.IID' cannot be resolved."),
    # "partition count mismatch"
    ("CREATE STREAM OUTPUT{s} as SELECT * FROM S1{s} JOIN T2{s} ON S1{s}.ID = T2{s}.ID JOIN T4{s} ON "
     "S1{s}.ID = T4{s}.ID;",
     "Can't join `S1{s}` with `T4{s}` since the number of partitions don't match. `S1{s}` partitions = 1; `T4{s}` "
     "partitions = 2. Please repartition either one so that the number of partitions match."),
    # stream-table-join.json "Should fail on outer-join" and "... table-side non-key join attribute ..."
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM S1{s} FULL OUTER JOIN T2{s} ON S1{s}.ID = T2{s}.ID;",
     "Invalid join type: full-outer join not supported for stream-table join. Got S1{s} [FULL] OUTER JOIN T2{s}."),
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM S1{s} s LEFT JOIN T2{s} t ON s.V0 = t.V0;",
     "Invalid join condition: stream-table joins require to join on the table's primary key. Got S.V0 = T.V0."),
    # table-table-join.json "Should fail on right non-key attribute for inner-join -- revers join condition order"
    ("CREATE TABLE OUTPUT{s} AS SELECT * FROM T2{s} JOIN T3{s} ON T3{s}.V0 = T2{s}.V0;",
     "Invalid join condition: table-table joins require to join on the primary key of the right input table. Got "
     "T3{s}.V0 = T2{s}.V0."),
    # joins.json "key in projection more than once"
    ("CREATE STREAM OUTPUT{s} AS SELECT s1{s}.ID, s1{s}.ID AS KEY2, t2{s}.V0 FROM S1{s} JOIN T2{s} ON "
     "S1{s}.ID = T2{s}.ID;",
     "The projection contains a key column (`S1{s}_ID`) more than once, aliased as: KEY2 and S1{s}_ID."),
    # joins.json "on MAP column" and "on nested MAP column"
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM M1{s} JOIN M2{s} WITHIN 11 SECONDS ON M1{s}.L0 = M2{s}.R0;",
     "Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due "
     "to inconsistent serialization. Key column name: `M1{s}_L0`. Column type: MAP<STRING, INTEGER>. See "
     "https://github.com/confluentinc/ksql/issues/6621 for more."),
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM M1{s} JOIN M2{s} WITHIN 11 SECONDS ON M1{s}.L1 = M2{s}.R1;",
     "Key column name: `M1{s}_L1`. Column type: STRUCT<`F1` MAP<STRING, INTEGER>>."),
    # joins.json "windowed - non-windowed - INT"
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM W1{s} JOIN M1{s} WITHIN 1 MINUTE ON W1{s}.ID = M1{s}.ID;",
     "Can not join windowed source to non-windowed source.\n`W1{s}` is SESSION windowed\n`M1{s}` is not windowed"),
    # joins.json "session - timed windowed"
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM W1{s} JOIN W2{s} WITHIN 1 MINUTE ON W1{s}.ID = W2{s}.ID;",
     "Incompatible windowed sources.\nLeft source: SESSION\nRight source: TUMBLING\nSession windowed sources can "
     "only be joined to other session windowed sources"),
    # joins.json "matching time-windowed join with different windows fails" (KAFKA keys, hopping and tumbling)
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM W2{s} JOIN W3{s} WITHIN 1 MINUTE ON W2{s}.ID = W3{s}.ID;",
     "Implicit repartitioning of windowed sources is not supported. See "
     "https://github.com/confluentinc/ksql/issues/4385."),
    # joins.json "join requiring repartition of windowed source"
    ("CREATE STREAM OUTPUT{s} AS SELECT * FROM W1{s} JOIN W4{s} WITHIN 1 MINUTE ON W1{s}.V = W4{s}.ID;",
     "Implicit repartitioning of windowed sources is not supported."),
])
def test_multi_join_errors(env, error_sources, query, message):
    _, k = env
    s = error_sources
    status, body = k.ksql(query.replace("{s}", s))
    assert status == 400 and message.replace("{s}", s) in body["message"], body


# fk-n-way-join.json: a foreign-key join may be the first step of an N-way join; its result is keyed by the left
# table's key, which the next steps join on. Every case there feeds these records.
FK_INPUTS = [("middle", b"0", {"F2": 100, "OTHER": "unused"}, 0), ("left", b"1", {"FOREIGN_KEY": 0}, 10000),
             ("right", b"1", {"F3": 4}, 11000), ("middle", b"8", {"F2": 10, "OTHER": "unused"}, 13000),
             ("left", b"1", {"FOREIGN_KEY": 8}, 16000), ("left", b"1", None, 18000)]


def fk_tables(left: str, middle: str, right: str) -> list[str]:
    return [f"CREATE TABLE {name}_table{{s}} ({columns}) WITH (kafka_topic='{name}{{s}}', format='JSON', "
            "partitions=1);" for name, columns in (("left", left), ("middle", middle), ("right", right))]


def test_foreign_key_join_first_in_an_n_way_join(env):
    s = run(env, fk_tables("l_id BIGINT PRIMARY KEY, foreign_key BIGINT",
                           "m_id BIGINT PRIMARY KEY, f2 BIGINT, other STRING", "r_id BIGINT PRIMARY KEY, f3 BIGINT"))
    feed(env, s, [(t, k, v, ts) for t, k, v, ts in FK_INPUTS])
    joins = ("FROM left_table{s} JOIN middle_table{s} ON foreign_key = m_id LEFT JOIN right_table{s} "
             "ON l_id = r_id;")
    run(env, [
        # "Should allow fk join at start of n-way join"
        "CREATE TABLE OUTPUT{s} AS SELECT l_id, m_id, foreign_key, f2, f3 " + joins,
        # "Should allow fk join at start of n-way join - select *"
        "CREATE TABLE STAR{s} AS SELECT * " + joins,
        # "Should allow fk join at start of n-way join - alternative key expression in projection"
        "CREATE TABLE ALT{s} AS SELECT r_id, m_id, foreign_key, f2, f3 " + joins,
        # "Should allow fk join at start of n-way join - with aliases"
        "CREATE TABLE ALIASED{s} AS SELECT l_id, m_id AS m_id_alias, foreign_key, mt.f2 AS mt_f2_alias, rt.f3 "
        "FROM left_table{s} AS lt JOIN middle_table{s} AS mt ON foreign_key = mt.m_id LEFT JOIN right_table{s} AS rt "
        "ON lt.l_id = r_id;"], s)
    rows = [(0, 0, 100, None), (0, 0, 100, 4), (8, 8, 10, 4)]
    expected = [(b"1", dict(zip(("M_ID", "FOREIGN_KEY", "F2", "F3"), r, strict=True))) for r in rows]
    assert outputs(env, f"OUTPUT{s}", 4) == [*expected, (b"1", None)]
    assert schema(env, f"OUTPUT{s}") == [("L_ID", "KEY"), ("M_ID", None), ("FOREIGN_KEY", None), ("F2", None),
                                         ("F3", None)]
    assert outputs(env, f"ALT{s}", 4) == [*expected, (b"1", None)]
    assert schema(env, f"ALT{s}")[0] == ("R_ID", "KEY")
    star = [f"{t}_TABLE{s}_{c}" for t, c in (("LEFT", "FOREIGN_KEY"), ("MIDDLE", "M_ID"), ("MIDDLE", "F2"),
                                              ("MIDDLE", "OTHER"), ("RIGHT", "R_ID"), ("RIGHT", "F3"))]
    assert outputs(env, f"STAR{s}", 4) == [(b"1", dict(zip(star, r, strict=True))) for r in (
        (0, 0, 100, "unused", None, None), (0, 0, 100, "unused", 1, 4), (8, 8, 10, "unused", 1, 4))] + [(b"1", None)]
    assert schema(env, f"STAR{s}") == [(f"LEFT_TABLE{s}_L_ID", "KEY"), *((c, None) for c in star)]
    names = ("M_ID_ALIAS", "FOREIGN_KEY", "MT_F2_ALIAS", "F3")
    assert outputs(env, f"ALIASED{s}", 4) == [(b"1", dict(zip(names, r, strict=True))) for r in rows] + [
        (b"1", None)]
    assert schema(env, f"ALIASED{s}") == [("L_ID", "KEY"), *((n, None) for n in names)]
    # the stores of ksqlDB's plan of this test: the foreign-key step's (context L_) and its materialized result
    qid = query_id(env, f"OUTPUT{s}")
    assert {f"{PREFIX}{qid}-{n}-changelog" for n in (
        "KafkaTopic_L_Left-Reduce", "KafkaTopic_L_Right-Reduce", "KafkaTopic_Right-Reduce", "Project-Last",
        "KTABLE-FK-JOIN-OUTPUT-STATE-STORE-0000000025", "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000016")
            } <= topics(env)
    assert pull(env, f"SELECT * FROM OUTPUT{s};") == []  # the left row was deleted
    # the same join as a push query (a transient query; a table's deletions are not streamed)
    status, _, body = env[1].request("POST", "/query", {"ksql": ("SELECT l_id, m_id, f2, f3 " + joins).replace(
        ";", " EMIT CHANGES LIMIT 3;").replace("{s}", s), "streamsProperties": EARLIEST})
    assert status == 200, body
    assert [line["row"]["columns"] for line in json.loads(body)[1:-1]] == [[1, *r[:1], *r[2:]] for r in rows]


def test_foreign_key_join_in_an_n_way_join_qualified_star_and_errors(env):
    _, k = env
    s = run(env, fk_tables("id1 BIGINT PRIMARY KEY, f1 BIGINT", "id2 BIGINT PRIMARY KEY, f2 BIGINT, other STRING",
                           "id3 BIGINT PRIMARY KEY, f3 BIGINT"))
    # "Should allow fk join at start of n-way join - qualified select *"
    feed(env, s, [("middle", b"0", {"F2": 100, "OTHER": "foo"}, 0), ("left", b"1", {"F1": 0}, 10000),
                  ("right", b"1", {"F3": 4}, 11000), ("middle", b"8", {"F2": 10, "OTHER": "bar"}, 13000),
                  ("left", b"1", {"F1": 8}, 16000), ("left", b"1", None, 18000)])
    run(env, ["CREATE TABLE OUTPUT{s} AS SELECT id1, middle_table{s}.*, right_table{s}.* FROM left_table{s} JOIN "
              "middle_table{s} ON f1 = id2 LEFT JOIN right_table{s} ON id1 = id3;"], s)
    columns = [f"{t}_TABLE{s}_{c}" for t, c in (("MIDDLE", "ID2"), ("MIDDLE", "F2"), ("MIDDLE", "OTHER"),
                                                 ("RIGHT", "ID3"), ("RIGHT", "F3"))]
    assert outputs(env, f"OUTPUT{s}", 4) == [(b"1", dict(zip(columns, r, strict=True))) for r in (
        (0, 100, "foo", None, None), (0, 100, "foo", 1, 4), (8, 10, "bar", 1, 4))] + [(b"1", None)]
    assert schema(env, f"OUTPUT{s}") == [("ID1", "KEY"), *((c, None) for c in columns)]
    for query, message in [
        # "Should fail as second step in n-way join"
        ("SELECT id1, f1, f2, f3 FROM left_table{s} JOIN middle_table{s} ON id1 = id2 JOIN right_table{s} ON "
         "f1 = id3;", "Invalid join condition: foreign-key table-table joins are not supported as part of n-way "
         "joins. Got LEFT_TABLE{s}.F1 = RIGHT_TABLE{s}.ID3."),
        # "Should fail as second step in n-way join with fk join as first step"
        ("SELECT id1, f1, f2, f3 FROM left_table{s} JOIN middle_table{s} ON f1 = id2 JOIN right_table{s} ON "
         "f1 = id3;", "Invalid join condition: foreign-key table-table joins are not supported as part of n-way "
         "joins. Got LEFT_TABLE{s}.F1 = RIGHT_TABLE{s}.ID3."),
        # "FK join at start of join should fail without key in projection"
        ("SELECT f1, f2, f3 FROM left_table{s} JOIN middle_table{s} ON f1 = id2 JOIN right_table{s} ON id1 = id3;",
         "The query used to build `BAD{s}` must include the join expressions LEFT_TABLE{s}.ID1 or "
         "RIGHT_TABLE{s}.ID3 in its projection (eg, SELECT LEFT_TABLE{s}.ID1...)."),
    ]:
        status, body = k.ksql(f"CREATE TABLE BAD{s} AS {query}".replace("{s}", s))
        assert status == 400 and message.replace("{s}", s) in body["message"], body


def test_foreign_key_join_of_a_composite_left_key_across_partition_counts(env):
    # fk-join.json "Should support inner join with left key-column expression", "... partition count mismatch",
    # "Should fail on partial left source key in projection"
    s = run(env, ["CREATE TABLE L{s} (A BIGINT PRIMARY KEY, FK BIGINT PRIMARY KEY, NAME STRING) WITH "
                  "(kafka_topic='l{s}', format='JSON', partitions=1);",
                  "CREATE TABLE R{s} (ID BIGINT PRIMARY KEY, F1 STRING) WITH (kafka_topic='r{s}', format='JSON', "
                  "partitions=2);"])
    status, body = env[1].ksql(f"CREATE TABLE BAD{s} AS SELECT FK, ID, NAME FROM L{s} JOIN R{s} ON FK = ID;")
    assert status == 400 and "Missing column: `A`." in body["message"], body
    run(env, ["CREATE TABLE OUT{s} AS SELECT A, FK, ID, NAME, F1 FROM L{s} JOIN R{s} ON FK = ID;"], s)
    feed(env, s, [("r", b"0", {"F1": "blah"}, 0), ("l", b'{"A":1,"FK":0}', {"NAME": "zero"}, 10000),
                  ("r", b"0", {"F1": "a"}, 15000), ("l", b'{"A":1,"FK":0}', None, 18000)])
    assert outputs(env, f"OUT{s}", 3) == [(b'{"A":1,"FK":0}', {"ID": 0, "NAME": "zero", "F1": "blah"}),
                                         (b'{"A":1,"FK":0}', {"ID": 0, "NAME": "zero", "F1": "a"}),
                                         (b'{"A":1,"FK":0}', None)]
