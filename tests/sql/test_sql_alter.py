"""ALTER STREAM | TABLE ... ADD COLUMN as ksqlDB has it (AlterSourceFactory, DdlCommandExec): the new value columns
read and written at once, the refusals with ksqlDB's messages, and the columns still there after a restart (the
statement is in the command topic)."""

from __future__ import annotations

import pytest
from sql_helpers import KsqlProcess, consume, produce, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from conftest import module_broker

    with module_broker(tmp_path_factory, "ksql-alter") as broker:
        log = tmp_path_factory.mktemp("ksql-alter") / "ksql.log"
        k = KsqlProcess(log, broker.bootstrap, EARLIEST).start()
        try:
            yield broker, k, log
        finally:
            k.stop()


def columns(k: KsqlProcess, name: str) -> list[str]:
    status, body = k.ksql(f"DESCRIBE {name};")
    assert status == 200, body
    return [f["name"] for f in body[0]["sourceDescription"]["fields"]]


def refused(k: KsqlProcess, statement: str) -> str:
    status, body = k.ksql(statement)
    assert status == 400 and body["error_code"] == 40001, body
    return body["message"]


def test_alter_adds_columns_that_queries_read_and_a_restart_keeps(env):
    broker, k, log = env
    run_statements(k, ["CREATE STREAM EVENTS (ID INT KEY, A STRING) WITH (kafka_topic='events', value_format='JSON', "
                       "partitions=1);"])
    status, body = k.ksql("ALTER STREAM EVENTS ADD COLUMN B INT, ADD C ARRAY<STRING>;")
    assert status == 200, body
    assert body[0]["commandStatus"] == {"status": "SUCCESS", "message": "Stream EVENTS altered.", "queryId": None}
    assert body[0]["commandId"] == "stream/`EVENTS`/alter"
    assert columns(k, "EVENTS") == ["ID", "A", "B", "C"]
    run_statements(k, ["CREATE STREAM EVENTS_B AS SELECT ID, B, C FROM EVENTS;"])
    produce(broker.bootstrap, "events", [(b"\x00\x00\x00\x01", b'{"A":"x","B":7,"C":["y"]}')])
    assert consume(broker.bootstrap, "EVENTS_B", 1) == [(b"\x00\x00\x00\x01", b'{"B":7,"C":["y"]}')]
    k.stop()  # the ALTER is replayed from the command topic
    k.start()
    assert columns(k, "EVENTS") == ["ID", "A", "B", "C"]


def test_alter_refusals(env):
    _, k, _ = env
    run_statements(k, ["CREATE TABLE T (ID INT PRIMARY KEY, A STRING) WITH (kafka_topic='t', value_format='JSON', "
                       "partitions=1);",
                       "CREATE SOURCE STREAM RO (ID INT KEY, A STRING) WITH (kafka_topic='ro', value_format='JSON', "
                       "partitions=1);",
                       "CREATE TABLE T2 AS SELECT * FROM T;"])
    assert refused(k, "ALTER TABLE NOPE ADD COLUMN B INT;") == "Source NOPE does not exist."
    assert refused(k, "ALTER STREAM T ADD COLUMN B INT;") == \
        "Incompatible data source type is TABLE, but statement was ALTER STREAM"
    assert refused(k, "ALTER TABLE T ADD COLUMN A INT;") == \
        "Cannot add column `A` to schema. A column with the same name already exists."
    assert refused(k, "ALTER TABLE T2 ADD COLUMN B INT;") == \
        "ALTER command is not supported for CREATE ... AS statements."
    assert refused(k, "ALTER STREAM RO ADD COLUMN B INT;") == \
        "Cannot alter stream 'RO': ALTER operations are not supported on source streams."
    assert columns(k, "T") == ["ID", "A"]
