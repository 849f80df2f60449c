"""WITH (TIMESTAMP='col' [, TIMESTAMP_FORMAT='...']) as ksqlDB's timestamp-extractor.json has it (each test names its
case): a BIGINT or STRING column is the records' time on a source, a column is the written records' time on a
sink, records whose column gives no time are dropped; the property's checks and messages."""

from __future__ import annotations

import json

import pytest
from sql_helpers import consume, module_ksql, produce_at, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-timestamp-column") as (broker, k):
        yield broker, k


def timed_values(bootstrap: str, topic: str, count: int) -> list[tuple[dict, int]]:
    """(value, timestamp) of the first `count` records of `topic`."""
    return [(json.loads(value), ts) for _, value, ts in consume(bootstrap, topic, count, timestamps=True)]


def test_a_string_column_read_with_its_format_is_the_records_time(env):
    # "source string timestamp column": the unreadable '!!!' record is dropped
    broker, k = env
    run_statements(k, ["CREATE STREAM test_s (K STRING KEY, ID bigint, TS varchar) WITH (kafka_topic='ts_string', "
                       "value_format='JSON', partitions=1, timestamp='ts', timestamp_format='yy-MM-dd HH:mm:ssX');",
                       "CREATE STREAM ts_s AS SELECT K, id FROM test_s;"], EARLIEST)
    produce_at(broker.bootstrap, "ts_string", [
        (None, json.dumps({"ID": 1, "TS": "10-04-19 12:00:17Z"}).encode(), 1000),
        (None, json.dumps({"ID": 2, "TS": "!!!!!!!!!!!!!!!!!"}).encode(), 1000),
        (None, json.dumps({"ID": 3, "TS": "10-04-19 12:00:17Z"}).encode(), 1000)])
    assert timed_values(broker.bootstrap, "TS_S", 2) == [({"ID": 1}, 1271678417000), ({"ID": 3}, 1271678417000)]


def test_bigint_columns_on_a_source_and_on_a_sink(env):
    # "source bigint timestamp column" (TS -1: dropped) and "sink bigint timestamp column" (-2: dropped)
    broker, k = env
    run_statements(k, ["CREATE STREAM test_b (K STRING KEY, ID bigint, TS bigint) WITH (kafka_topic='ts_bigint', "
                       "value_format='JSON', partitions=1, timestamp='ts');",
                       "CREATE STREAM ts_b AS SELECT K, id FROM test_b;",
                       "CREATE STREAM ts_sink WITH (timestamp='sink_ts') AS SELECT K, id as sink_ts, id FROM test_b;"],
                   EARLIEST)
    produce_at(broker.bootstrap, "ts_bigint", [
        (None, json.dumps({"ID": 1, "TS": 1526075913000}).encode(), 1000),
        (None, json.dumps({"ID": 2, "TS": -1}).encode(), 1000),
        (None, json.dumps({"ID": 3, "TS": 1589234313000}).encode(), 1000)])
    assert timed_values(broker.bootstrap, "TS_B", 2) == [({"ID": 1}, 1526075913000), ({"ID": 3}, 1589234313000)]
    produce_at(broker.bootstrap, "ts_bigint", [(None, json.dumps({"ID": -2, "TS": 1589234313000}).encode(), 1000),
                                               (None, json.dumps({"ID": 5, "TS": 1589234313000}).encode(), 1000)])
    assert timed_values(broker.bootstrap, "TS_SINK", 3) == [
        ({"SINK_TS": 1, "ID": 1}, 1), ({"SINK_TS": 3, "ID": 3}, 3), ({"SINK_TS": 5, "ID": 5}, 5)]


@pytest.mark.parametrize(("columns", "props", "message"), [
    # TimestampExtractionPolicyFactory's checks (timestamp-extractor.json's error cases)
    ("ID bigint", "timestamp='missing'",
     "The TIMESTAMP column set in the WITH clause does not exist in the schema: 'MISSING'"),
    ("ID bigint, TS varchar", "timestamp='ts'",
     "A String timestamp field has been specified without also specifying the timestamp_format"),
    ("ID bigint, TS bigint", "timestamp='ts', timestamp_format='yyyy'",
     "'TIMESTAMP_FORMAT' set in the WITH clause can only be used when the timestamp column is of type STRING."),
    ("ID bigint, TS double", "timestamp='ts'",
     "Timestamp column, TS, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified."),
])
def test_timestamp_property_checks(env, columns, props, message):
    _, k = env
    status, body = k.ksql(f"CREATE STREAM bad_ts (K STRING KEY, {columns}) WITH (kafka_topic='bad_ts', "
                          f"value_format='JSON', partitions=1, {props});")
    assert status == 400 and message in body["message"], body
