"""ksqlDB's PROTOBUF_NOSR format: the columns' Protobuf message written bare (no magic byte, schema id or message
indexes) and read back, with no schema registry configured at all."""

from __future__ import annotations

import pytest
from sql_helpers import consume, module_ksql, produce, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-nosr", EARLIEST) as found:
        yield found


def test_protobuf_without_the_registry_round_trips(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM J (ID INT KEY, N INT, NAME STRING) WITH (kafka_topic='j', value_format='JSON', partitions=1);",
        "CREATE STREAM P WITH (value_format='PROTOBUF_NOSR') AS SELECT * FROM J;",
        "CREATE STREAM P_READ (ID INT KEY, N INT, NAME STRING) WITH (kafka_topic='P', value_format='PROTOBUF_NOSR');",
        "CREATE STREAM BACK WITH (value_format='JSON') AS SELECT * FROM P_READ;",
    ])
    produce(broker.bootstrap, "j", [(b"\x00\x00\x00\x01", b'{"N":5,"NAME":"a"}')])
    # message ConnectDefault1 { int32 N = 1; string NAME = 2; }: field 1 varint 5, field 2 length 1 "a"
    assert consume(broker.bootstrap, "P", 1) == [(b"\x00\x00\x00\x01", b"\x08\x05\x12\x01a")]
    assert consume(broker.bootstrap, "BACK", 1) == [(b"\x00\x00\x00\x01", b'{"N":5,"NAME":"a"}')]
    status, body = k.ksql("CREATE STREAM NOCOLS WITH (kafka_topic='j', value_format='PROTOBUF_NOSR');")
    assert status == 400 and body["message"] == "The statement does not define any columns."
