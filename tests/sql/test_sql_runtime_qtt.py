"""What ksqlDB's functional tests (query-validation-tests) show of queries at run time, through a real ksql server,
schema registry and broker: a late record of a stream-stream RIGHT join with GRACE PERIOD still joins a side whose
window store has seen no newer rows (joins.json); SUM of a DECIMAL fails the query when it overflows and CAST to a
DECIMAL that does not fit is NULL (sum.json, cast.json); DATE values beyond Python's years 1 to 9999 pass through
Avro and the date functions (max-group-by.json / min-group-by.json "min date", ISO text as java.time writes it)."""

from __future__ import annotations

import io
import json
import struct

import fastavro
import pytest
from confluent_kafka.admin import AdminClient
from kafka_wire import wait_for
from sql_helpers import KsqlProcess, consume, module_ksql_with_registry, produce, produce_at, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql_with_registry(tmp_path_factory, "ksql-runtime") as (broker, registry, k):
        yield broker, registry, k


def query_id(k: KsqlProcess, sink: str) -> str:
    status, body = k.ksql("SHOW QUERIES;")
    return next(q["id"] for q in body[0]["queries"] if sink in q["sinks"])


def committed(bootstrap: str, group: str, topic: str) -> int:
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])
    return int(admin.list_consumer_group_offsets([request])[group].result(10).topic_partitions[0].offset)


def test_late_left_record_of_a_right_join_with_grace_still_joins(env):
    broker, _, k = env
    # joins.json "stream stream right join with out of order and custom grace period - JSON", fed one record at a
    # time as ksqlDB's test driver feeds them: D (left, 90000) comes when stream time is 330000, yet the right
    # side's store has seen nothing newer than 90000, so d (60000) is still within its retention (1 + 1 + 1 min)
    run_statements(k, [
        "CREATE STREAM LEFT_STREAM (id BIGINT KEY, l1 VARCHAR) WITH (kafka_topic='left_topic', value_format='JSON', "
        "partitions=1);",
        "CREATE STREAM RIGHT_STREAM (id BIGINT KEY, l2 VARCHAR) WITH (kafka_topic='right_topic', "
        "value_format='JSON', partitions=1);",
        "CREATE STREAM RIGHT_JOIN AS SELECT t.id, l1, l2 FROM LEFT_STREAM t RIGHT JOIN RIGHT_STREAM tt WITHIN 1 "
        "minute GRACE PERIOD 1 minute ON t.id = tt.id;"], EARLIEST)
    group = f"_confluent-ksql-default_query_{query_id(k, 'RIGHT_JOIN')}"

    def send(topic: str, key: int, value: dict, ts: int) -> None:
        produce_at(broker.bootstrap, topic, [(struct.pack(">q", key), json.dumps(value).encode(), ts)])

    def joined(count: int) -> list:
        got = consume(broker.bootstrap, "RIGHT_JOIN", count, timestamps=True)
        assert len(got) == count, got
        return [(struct.unpack(">q", key)[0], json.loads(value), ts) for key, value, ts in got]

    send("left_topic", 0, {"L1": "A"}, 1)  # ksqlDB's test writes 0: librdkafka and kafka-python read 0 as "now"
    send("right_topic", 0, {"L2": "a"}, 60000)
    assert joined(1) == [(0, {"L1": "A", "L2": "a"}, 60000)]
    send("left_topic", 1, {"L1": "B"}, 330000)
    send("left_topic", 2, {"L1": "C"}, 90000)
    wait_for(lambda: committed(broker.bootstrap, group, "left_topic") == 3, 30, 0.1, what="B and C processed")
    send("right_topic", 2, {"L2": "c"}, 90000)  # C left its store (330000 - 3 min): c is written unmatched
    assert joined(2)[1] == (2, {"L1": None, "L2": "c"}, 90000)
    send("right_topic", 3, {"L2": "d"}, 60000)
    assert joined(3)[2] == (3, {"L1": None, "L2": "d"}, 60000)
    send("left_topic", 3, {"L1": "D"}, 90000)
    assert joined(4)[3] == (3, {"L1": "D", "L2": "d"}, 90000)


def test_decimal_sum_overflow_fails_the_query_and_a_cast_that_does_not_fit_is_null(env):
    broker, _, k = env
    # sum.json "sum decimal with overflow" (its key 100 part): the third sum, 1202.5, does not fit DECIMAL(4,1);
    # cast.json "integer to decimal": 10 as DECIMAL(2,1) is NULL, the record written
    run_statements(k, [
        "CREATE STREAM DEC (ID BIGINT KEY, VALUE DECIMAL(4,1), N INT) WITH (kafka_topic='dec_topic', "
        "value_format='JSON', partitions=1);",
        "CREATE TABLE SUMS AS SELECT ID, SUM(VALUE) AS SUM FROM DEC GROUP BY ID;",
        "CREATE STREAM CASTS AS SELECT ID, CAST(N AS DECIMAL(2,1)) AS VAL FROM DEC;"], EARLIEST)
    produce(broker.bootstrap, "dec_topic", [(struct.pack(">q", 100), json.dumps({"VALUE": v, "N": n}).encode())
                                            for v, n in ((500.9, 1), (300.8, 10), (400.8, -1))])
    assert [json.loads(v)["VAL"] for _, v in consume(broker.bootstrap, "CASTS", 3)] == [1.0, None, -1.0]
    sums = query_id(k, "SUMS")

    def failed() -> list:
        status, body = k.ksql(f"EXPLAIN {sums};")
        return body[0]["queryDescription"]["queryErrors"] if body[0]["queryDescription"]["state"] == "ERROR" else []
    errors = wait_for(failed, 30, 0.1, what="the SUM query in ERROR")
    assert errors[0]["type"] == "USER"
    assert errors[0]["errorMessage"] == ("Numeric field overflow: A field with precision 4 and scale 1 must round "
                                         "to an absolute value less than 10^3. Got 1202.5")
    assert [json.loads(v)["SUM"] for _, v in consume(broker.bootstrap, "SUMS", 2)] == [500.9, 801.7]
    status, body = k.ksql("SHOW QUERIES;")
    states = {q["id"]: q["state"] for q in body[0]["queries"]}
    assert states[sums] == "ERROR" and states[query_id(k, "CASTS")] == "RUNNING"  # the server and others go on


def test_dates_beyond_pythons_years_through_avro_and_the_date_functions(env):
    broker, registry, k = env
    # max-group-by.json / min-group-by.json "min date ...": DATE -2147483647 in AVRO; its ISO text as java.time's
    # LocalDate writes it, and 2932897 days (+10000-01-01)
    run_statements(k, [
        "CREATE STREAM DATES (ID BIGINT KEY, D DATE) WITH (kafka_topic='dates_topic', value_format='AVRO', "
        "partitions=1);",
        "CREATE TABLE MIN_DATES AS SELECT ID, MIN(D) AS M FROM DATES GROUP BY ID;",
        "CREATE STREAM DATE_TEXT AS SELECT ID, D, CAST(D AS STRING) AS S, FORMAT_DATE(D, 'dd/MM uuuu') AS F, "
        "DATEADD(DAYS, 1, D) AS NEXT FROM DATES;"], EARLIEST)
    import urllib.request

    def latest(subject: str) -> tuple[int, dict]:
        with urllib.request.urlopen(f"{registry.url}/subjects/{subject}/versions/latest", timeout=10) as resp:
            body = json.loads(resp.read())

        def plain(x: object) -> object:  # the dates read as their days (Python's date stops at year 9999)
            if isinstance(x, dict):
                return {k: plain(v) for k, v in x.items() if k != "logicalType"}
            return [plain(v) for v in x] if isinstance(x, list) else x
        return int(body["id"]), fastavro.parse_schema(plain(json.loads(body["schema"])))

    schema_id, schema = latest("dates_topic-value")
    records = []
    for days in (5, -2147483647, 2932897):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, {"D": days})
        records.append((struct.pack(">q", 0), b"\0" + struct.pack(">I", schema_id) + buf.getvalue()))
    produce(broker.bootstrap, "dates_topic", records)

    def read(topic: str, count: int) -> list:
        got = consume(broker.bootstrap, topic, count)
        assert len(got) == count, got
        out_schema = latest(f"{topic}-value")[1]
        return [fastavro.schemaless_reader(io.BytesIO(v[5:]), out_schema) for _, v in got]
    assert [r["M"] for r in read("MIN_DATES", 3)] == [5, -2147483647, -2147483647]
    assert read("DATE_TEXT", 3) == [
        {"D": 5, "S": "1970-01-06", "F": "06/01 1970", "NEXT": 6},
        {"D": -2147483647, "S": "-5877641-06-24", "F": "24/06 -5877641", "NEXT": -2147483646},
        {"D": 2932897, "S": "+10000-01-01", "F": "01/01 +10000", "NEXT": 2932898}]


def test_decimal_arithmetic_types_delimited_text_and_date_comparisons(env):
    broker, _, k = env
    # decimal.json "addition", "division" (by zero: NULL; 10.01 / 5.10 too, whose quotient needs rounding: ksqlDB's
    # MathContext(11, UNNECESSARY) fails it, confluentinc/ksql#9874), "DELIMITED should not trim trailing zeros";
    # date.json "greater than - DATE STRING", "greater than - DATE TIMESTAMP", "between"; unix-date.json
    # (DELIMITED `true`)
    run_statements(k, [
        "CREATE STREAM DD (ID STRING KEY, A DECIMAL(4,2), B DECIMAL(4,2), D DATE, T TIMESTAMP, F BOOLEAN) WITH "
        "(kafka_topic='dd_topic', value_format='DELIMITED', partitions=1);",
        "CREATE STREAM DD_OUT AS SELECT ID, A + B AS S, A / B AS Q, D > '1970-01-11' AS LATER, D > T AS AFTER_T, F "
        "FROM DD WHERE D BETWEEN '1970-01-04' AND '1970-01-12';"], EARLIEST)
    status, body = k.ksql("DESCRIBE DD_OUT;")
    fields = {f["name"]: f["schema"] for f in body[0]["sourceDescription"]["fields"]}
    assert fields["S"]["parameters"] == {"precision": 5, "scale": 2}
    assert fields["Q"]["parameters"] == {"precision": 11, "scale": 7}
    produce(broker.bootstrap, "dd_topic", [(b"a", b"10.01,5.10,10,863999999,true"), (b"b", b"1,1,20,0,true"),
                                           (b"c", b"5,0,11,0,false")])
    assert [v for _, v in consume(broker.bootstrap, "DD_OUT", 2)] == [b"15.11,,false,true,true",
                                                                     b"5.00,,true,true,false"]
