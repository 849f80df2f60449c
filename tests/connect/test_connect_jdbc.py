"""Confluent's JDBC connectors on a real worker, a real broker, a real PostgreSQL (the session fixture's private
cluster) and real SQLite files: a round trip PostgreSQL -> topic -> PostgreSQL with upserts and deletes, the same
source on SQLite, config validation with Confluent's messages, and a database that goes away (tasks retry, then
FAILED with the cause in /status, then a restart resumes without losing a row)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from confluent_kafka import Producer
from conftest import module_broker
from connect_helpers import consume_all, module_worker, wait_for

SOURCE = "io.confluent.connect.jdbc.JdbcSourceConnector"
SINK = "io.confluent.connect.jdbc.JdbcSinkConnector"
KEY_ID = {"transforms": "key", "transforms.key.type": "org.apache.kafka.connect.transforms.ValueToKey",
          "transforms.key.fields": "id"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "connect-jdbc") as b:
        yield b


@pytest.fixture(scope="module")
def worker(broker, tmp_path_factory):
    with module_worker(tmp_path_factory, broker, "connect-jdbc-worker", **{"offset.flush.interval.ms": "200"}) as w:
        yield w


def create(worker, name: str, config: dict) -> None:
    code, body = worker.request("POST", "/connectors", {"name": name, "config": config})
    assert code == 201, body


def states(worker, name: str) -> list[str]:
    code, body = worker.request("GET", f"/connectors/{name}/status")
    return [body["connector"]["state"]] + [t["state"] for t in body["tasks"]] if code == 200 else []


def ts(seconds: int) -> str:
    """A UTC timestamp some seconds before now, as PostgreSQL's `timestamp` literal."""
    return (dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=seconds)).isoformat(sep=" ")


def rows(postgres, db: str, sql: str) -> list[tuple] | None:
    """The rows of a query, None while its table does not exist (a sink creates it with its first batch)."""
    try:
        return postgres.execute(sql, db)
    except Exception:  # psycopg's UndefinedTable
        return None


def test_postgres_round_trip_with_upserts_and_deletes(broker, worker, postgres):
    db = postgres.create_database("jdbc_round_trip")
    postgres.execute("CREATE TABLE customers (id SERIAL PRIMARY KEY, name TEXT NOT NULL, balance NUMERIC(10,2), "
                     "updated_at TIMESTAMP NOT NULL)", db)
    postgres.execute(f"INSERT INTO customers (name, balance, updated_at) VALUES ('ann', 10.50, '{ts(60)}'), "
                     f"('bob', NULL, '{ts(59)}'), ('cid', 3.00, '{ts(58)}')", db)
    create(worker, "pg-source", {
        "connector.class": SOURCE, "connection.url": postgres.jdbc_url(db), "connection.user": postgres.USER,
        "mode": "timestamp+incrementing", "incrementing.column.name": "id", "timestamp.column.name": "updated_at",
        "table.whitelist": "customers", "topic.prefix": "pg_", "poll.interval.ms": "100", **KEY_ID})
    create(worker, "pg-ts", {  # timestamp mode alone: rows whose timestamp moved past the last one
        "connector.class": SOURCE, "connection.url": postgres.jdbc_url(db), "connection.user": postgres.USER,
        "mode": "timestamp", "timestamp.column.name": "updated_at", "table.whitelist": "customers",
        "topic.prefix": "pgts_", "poll.interval.ms": "100"})
    create(worker, "pg-sink", {
        "connector.class": SINK, "connection.url": postgres.jdbc_url(db), "connection.user": postgres.USER,
        "topics": "pg_customers", "table.name.format": "replica_${topic}", "insert.mode": "upsert",
        "pk.mode": "record_key", "pk.fields": "id", "delete.enabled": "true", "auto.create": "true",
        "auto.evolve": "true"})
    def replicated():
        return rows(postgres, db, "SELECT id, name, balance FROM replica_pg_customers ORDER BY id")

    wait_for(lambda: replicated() == [(1, "ann", 10.5), (2, "bob", None), (3, "cid", 3)], what="the first rows")
    [first] = consume_all(broker.bootstrap, "pg_customers", 1)
    envelope = json.loads(first.value())
    assert envelope["schema"] == {"type": "struct", "fields": [
        {"type": "int32", "optional": False, "field": "id"}, {"type": "string", "optional": False, "field": "name"},
        {"type": "bytes", "optional": True, "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
         "parameters": {"scale": "2"}, "field": "balance"},
        {"type": "int64", "optional": False, "name": "org.apache.kafka.connect.data.Timestamp", "version": 1,
         "field": "updated_at"}], "optional": False, "name": "customers"}
    assert envelope["payload"]["name"] == "ann" and json.loads(first.key())["payload"] == {"id": 1}

    # an update (a later timestamp) and an insert: the sink upserts both
    postgres.execute(f"UPDATE customers SET name = 'bobby', balance = 7.25, updated_at = '{ts(30)}' WHERE id = 2",
                     db)
    postgres.execute(f"INSERT INTO customers (name, balance, updated_at) VALUES ('dee', 1.00, '{ts(29)}')", db)
    wait_for(lambda: replicated() == [(1, "ann", 10.5), (2, "bobby", 7.25), (3, "cid", 3), (4, "dee", 1)],
             what="the upserts")

    names = [json.loads(m.value())["payload"]["name"] for m in consume_all(broker.bootstrap, "pgts_customers", 5)]
    assert names == ["ann", "bob", "cid", "bobby", "dee"]

    # a tombstone for id 1 deletes its row (the JDBC source never writes tombstones: a producer does)
    key = {"schema": {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "id"}],
                      "optional": False}, "payload": {"id": 1}}
    p = Producer({"bootstrap.servers": broker.bootstrap})
    p.produce("pg_customers", key=json.dumps(key).encode(), value=None)
    assert p.flush(10) == 0
    wait_for(lambda: replicated() == [(2, "bobby", 7.25), (3, "cid", 3), (4, "dee", 1)], what="the delete")

    # Confluent's source partition and offset, stored as every source offset is
    def offsets():
        body = worker.request("GET", "/connectors/pg-source/offsets")[1]
        return [o for o in body["offsets"] if o["offset"].get("incrementing") == 4]
    [entry] = wait_for(offsets, what="the source offset of row 4")
    assert entry["partition"] == {"protocol": "1", "table": f"{db}.public.customers"}
    assert set(entry["offset"]) == {"incrementing", "timestamp", "timestamp_nanos"}
    assert states(worker, "pg-source") == ["RUNNING", "RUNNING"] and states(worker, "pg-sink") == ["RUNNING"] * 2
    for name in ("pg-source", "pg-ts", "pg-sink"):
        assert worker.request("DELETE", f"/connectors/{name}")[0] == 204


def test_sqlite_source_to_topic_and_sqlite_sink(broker, worker, tmp_path):
    src, dst = tmp_path / "source.db", tmp_path / "replica.db"
    with sqlite3.connect(src) as c:
        c.execute("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, label TEXT, qty INTEGER)")
        c.executemany("INSERT INTO items (label, qty) VALUES (?, ?)", [("a", 1), ("b", 2), ("c", None)])
        c.execute("CREATE TABLE other (id INTEGER PRIMARY KEY NOT NULL, price REAL, day DATE)")
        c.execute("INSERT INTO other VALUES (1, 2.5, '2026-12-01')")
    create(worker, "lite-source", {
        "connector.class": SOURCE, "connection.url": f"jdbc:sqlite:{src}", "mode": "incrementing",
        "incrementing.column.name": "id", "table.whitelist": "items,other", "topic.prefix": "lite_",
        "poll.interval.ms": "100", "batch.max.rows": "2", "tasks.max": "2", **KEY_ID})
    create(worker, "lite-query", {
        "connector.class": SOURCE, "connection.url": f"jdbc:sqlite:{src}", "mode": "incrementing",
        "incrementing.column.name": "id", "query": "SELECT id, label, qty FROM items", "topic.prefix": "lite_query",
        "poll.interval.ms": "100"})
    create(worker, "lite-bulk", {  # bulk: the whole table at every poll
        "connector.class": SOURCE, "connection.url": f"jdbc:sqlite:{src}", "mode": "bulk",
        "table.whitelist": "other", "topic.prefix": "bulk_", "poll.interval.ms": "100"})
    create(worker, "lite-sink", {
        "connector.class": SINK, "connection.url": f"jdbc:sqlite:{dst}", "topics": "lite_items",
        "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id", "auto.create": "true"})
    msgs = consume_all(broker.bootstrap, "lite_items", 3)
    assert [json.loads(m.value())["payload"] for m in msgs] == [
        {"id": 1, "label": "a", "qty": 1}, {"id": 2, "label": "b", "qty": 2}, {"id": 3, "label": "c", "qty": None}]
    assert json.loads(msgs[0].value())["schema"]["name"] == "items"
    [other] = consume_all(broker.bootstrap, "lite_other", 1)
    assert json.loads(other.value()) == {"schema": {"type": "struct", "fields": [
        {"type": "int32", "optional": False, "field": "id"}, {"type": "float", "optional": True, "field": "price"},
        {"type": "int32", "optional": True, "name": "org.apache.kafka.connect.data.Date", "version": 1,
         "field": "day"}], "optional": False, "name": "other"}, "payload": {"id": 1, "price": 2.5, "day": 20788}}
    tasks = worker.request("GET", "/connectors/lite-source/tasks")[1]
    assert [t["config"]["tables"] for t in tasks] == ["items", "other"]  # tables split across tasks.max tasks
    query = consume_all(broker.bootstrap, "lite_query", 3)
    assert [json.loads(m.value())["payload"] for m in query] == [
        {"id": 1, "label": "a", "qty": 1}, {"id": 2, "label": "b", "qty": 2}, {"id": 3, "label": "c", "qty": None}]
    assert json.loads(query[0].value())["schema"]["fields"][1] == {"type": "string", "optional": True,
                                                                   "field": "label"}

    def replica():
        try:
            with sqlite3.connect(dst) as c:
                return c.execute("SELECT id, label, qty FROM lite_items ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            return None
    wait_for(lambda: replica() == [(1, "a", 1), (2, "b", 2), (3, "c", None)], what="the SQLite replica")
    with sqlite3.connect(src) as c:
        c.execute("INSERT INTO items (label, qty) VALUES ('d', 4)")
    wait_for(lambda: replica() == [(1, "a", 1), (2, "b", 2), (3, "c", None), (4, "d", 4)], what="the new row")
    [*_, fourth] = consume_all(broker.bootstrap, "lite_query", 4)  # query mode: the criteria appended to it
    assert json.loads(fourth.value())["payload"] == {"id": 4, "label": "d", "qty": 4}
    wait_for(lambda: worker.request("GET", "/connectors/lite-query/offsets")[1]["offsets"] == [
        {"partition": {"query": "query"}, "offset": {"incrementing": 4}}], what="the query's offset")
    body = wait_for(lambda: [o for o in worker.request("GET", "/connectors/lite-source/offsets")[1]["offsets"]
                             if o["offset"] == {"incrementing": 4}], what="the offset")
    assert body[0]["partition"] == {"protocol": "1", "table": "items"}
    bulk = consume_all(broker.bootstrap, "bulk_other", 2)
    assert [json.loads(m.value())["payload"]["id"] for m in bulk] == [1, 1]
    assert worker.request("GET", "/connectors/lite-bulk/offsets")[1]["offsets"] == []  # bulk keeps no offset
    for name in ("lite-source", "lite-sink", "lite-query", "lite-bulk"):
        assert worker.request("DELETE", f"/connectors/{name}")[0] == 204


def validate(worker, plugin: str, config: dict) -> dict[str, list[str]]:
    code, body = worker.request("PUT", f"/connector-plugins/{plugin}/config/validate", config)
    assert code == 200, body
    return {c["value"]["name"]: c["value"]["errors"] for c in body["configs"] if c["value"] and c["value"]["errors"]}


def test_bad_configs_get_confluents_messages_and_nothing_starts(worker, postgres, tmp_path):
    url = f"jdbc:sqlite:{tmp_path / 'v.db'}"
    sink = {"name": "bad-sink", "connector.class": SINK, "topics": "t", "connection.url": url}
    assert validate(worker, "JdbcSinkConnector", {**sink, "delete.enabled": "true"}) == {
        "pk.mode": ["Deletes are only supported for pk.mode record_key"],
        "delete.enabled": ["Deletes are only supported for pk.mode record_key"]}
    assert validate(worker, "JdbcSinkConnector", {**sink, "insert.mode": "merge"}) == {
        "insert.mode": ["Invalid value merge for configuration insert.mode: Invalid enumerator"]}
    assert validate(worker, "JdbcSinkConnector", {"name": "s", "connector.class": SINK, "topics": "t"}) == {
        "connection.url": ['Missing required configuration "connection.url" which has no default value.']}
    source = {"name": "bad-source", "connector.class": SOURCE, "connection.url": url, "mode": "bulk",
              "topic.prefix": "x-"}
    assert validate(worker, "JdbcSourceConnector", {**source, "table.whitelist": "a", "mode": ""}) == {
        "mode": ["Query mode must be specified"]}
    assert validate(worker, "JdbcSourceConnector", {**source, "mode": "sometimes"}) == {
        "mode": ["Invalid value sometimes for configuration mode: String must be one of: , bulk, timestamp, "
                 "incrementing, timestamp+incrementing"]}
    msg = ("At least one table filtering configuration is required. Provide one of: table.whitelist, "
           "table.blacklist, table.include.list, or table.exclude.list.")
    assert validate(worker, "JdbcSourceConnector", source) == {"table.whitelist": [msg], "table.blacklist": [msg]}
    assert validate(worker, "JdbcSourceConnector", {**source, "query": "DELETE FROM a"}) == {
        "query": ["Only SELECT statements are supported for 'query'. Please provide a statement that starts with "
                  "SELECT."]}
    assert validate(worker, "JdbcSourceConnector", {**source, "topic.prefix": "a b", "table.whitelist": "a"}) == {
        "topic.prefix": ["Invalid value a b for configuration topic.prefix: Topic prefix must not contain any "
                         "character other than ASCII alphanumerics, '.', '_' and '-'."]}
    # a PASSWORD value is masked in the validate response
    code, body = worker.request("PUT", "/connector-plugins/JdbcSinkConnector/config/validate",
                                {**sink, "connection.password": "s3cret"})
    [password] = [c for c in body["configs"] if c["definition"]["name"] == "connection.password"]
    assert code == 200 and password["definition"]["type"] == "PASSWORD" and password["value"]["value"] == "[hidden]"
    assert "s3cret" not in json.dumps(body)
    bad_url = {**source, "table.whitelist": "a", "connection.url": "jdbc:postgresql://127.0.0.1:1/none"}
    [err] = validate(worker, "JdbcSourceConnector", bad_url)["connection.url"]
    assert err.startswith("Could not connect to database. ")

    code, body = worker.request("POST", "/connectors", {"name": "bad-sink", "config": {**sink,
                                                                                       "delete.enabled": "true"}})
    assert code == 400 and body["message"].startswith(
        "Connector configuration is invalid and contains the following 2 error(s):\n"
        "Deletes are only supported for pk.mode record_key\n")
    code, body = worker.request("POST", "/connectors", {"name": "bad-source", "config": bad_url})
    assert code == 400 and "Could not connect to database." in body["message"]
    assert worker.request("GET", "/connectors")[1] == []


def test_database_going_away_fails_the_tasks_then_restart_resumes(broker, worker, postgres):
    db = postgres.create_database("jdbc_away")
    postgres.execute("CREATE TABLE events (id SERIAL PRIMARY KEY, what TEXT NOT NULL)", db)
    postgres.execute("INSERT INTO events (what) SELECT 'e' || g FROM generate_series(1, 5) g", db)
    common = {"connection.url": postgres.jdbc_url(db), "connection.user": postgres.USER,
              "connection.attempts": "1"}
    create(worker, "away-source", {
        "connector.class": SOURCE, **common, "mode": "incrementing", "incrementing.column.name": "id",
        "table.whitelist": "events", "topic.prefix": "away_", "poll.interval.ms": "100",
        "query.retry.attempts": "2", **KEY_ID})
    create(worker, "away-sink", {
        "connector.class": SINK, **common, "topics": "away_events", "table.name.format": "copy",
        "insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true", "max.retries": "2",
        "retry.backoff.ms": "100"})
    def copy():
        return rows(postgres, db, "SELECT id, what FROM copy ORDER BY id")
    wait_for(lambda: copy() == [(i, f"e{i}") for i in range(1, 6)], what="the first copy")

    # the database refuses connections and drops the open ones: both tasks retry, then fail with the cause
    postgres.execute(f"ALTER DATABASE {db} ALLOW_CONNECTIONS false")
    postgres.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
    p = Producer({"bootstrap.servers": broker.bootstrap})
    key = {"schema": {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "id"}],
                      "optional": False}, "payload": {"id": 99}}
    value = {"schema": {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "id"},
                                                      {"type": "string", "optional": False, "field": "what"}],
                        "optional": False, "name": "events"}, "payload": {"id": 99, "what": "while away"}}
    p.produce("away_events", key=json.dumps(key).encode(), value=json.dumps(value).encode())
    assert p.flush(10) == 0
    for name in ("away-source", "away-sink"):
        wait_for(lambda n=name: states(worker, n) == ["RUNNING", "FAILED"], what=f"{name} FAILED")
        trace = worker.request("GET", f"/connectors/{name}/tasks/0/status")[1]["trace"]
        assert "jdbc_away" in trace and "not currently accepting connections" in trace, trace

    # the database comes back with rows written meanwhile; restarted tasks resume where they committed
    postgres.execute(f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
    postgres.execute("INSERT INTO events (what) SELECT 'e' || g FROM generate_series(6, 8) g", db)
    for name in ("away-source", "away-sink"):
        assert worker.request("POST", f"/connectors/{name}/tasks/0/restart")[0] == 204
        wait_for(lambda n=name: states(worker, n) == ["RUNNING", "RUNNING"], what=f"{name} RUNNING again")
    wanted = [(i, f"e{i}") for i in range(1, 9)] + [(99, "while away")]
    wait_for(lambda: copy() == wanted, what="every row copied after the restart")
    ids = [json.loads(m.key())["payload"]["id"] for m in consume_all(broker.bootstrap, "away_events", 9)]
    assert sorted(set(ids)) == [*range(1, 9), 99]  # at least once: each row on the topic, in order per run
    for name in ("away-source", "away-sink"):
        assert worker.request("DELETE", f"/connectors/{name}")[0] == 204


def envelope(fields: list[tuple[str, str, bool]], payload: dict | None, name: str | None = None) -> bytes:
    schema: dict = {"type": "struct", "fields": [{"type": t, "optional": o, "field": f} for f, t, o in fields],
                    "optional": False}
    if name:
        schema["name"] = name
    return json.dumps({"schema": schema, "payload": payload}).encode()


def test_sink_modes_evolve_and_retries_then_failure(broker, worker, postgres):
    db = postgres.create_database("jdbc_sink_modes")
    common = {"connector.class": SINK, "connection.url": postgres.jdbc_url(db), "connection.user": postgres.USER}
    p = Producer({"bootstrap.servers": broker.bootstrap})
    v1 = [("n", "int64", False), ("label", "string", False)]
    for i in range(3):
        p.produce("modes", value=envelope(v1, {"n": i, "label": f"l{i}"}))
    v2 = v1 + [("extra", "double", True)]  # a new optional field: auto.evolve adds the column
    p.produce("modes", value=envelope(v2, {"n": 3, "label": "l3", "extra": 0.5}))
    assert p.flush(10) == 0
    # pk.mode kafka: the Kafka coordinates are the key columns
    create(worker, "kafka-pk", {**common, "topics": "modes", "table.name.format": "by_coords", "pk.mode": "kafka",
                                "auto.create": "true", "auto.evolve": "true"})

    def table(sql):
        return rows(postgres, db, sql)
    wait_for(lambda: table("SELECT __connect_topic, __connect_partition, __connect_offset, n, label, extra FROM "
                           "by_coords ORDER BY __connect_offset") == [
        ("modes", 0, 0, 0, "l0", None), ("modes", 0, 1, 1, "l1", None), ("modes", 0, 2, 2, "l2", None),
        ("modes", 0, 3, 3, "l3", 0.5)], what="rows keyed by their coordinates, the new column added")
    cols = table("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = "
                 "'by_coords' ORDER BY ordinal_position")
    assert cols == [("__connect_topic", "text", "NO"), ("__connect_partition", "integer", "NO"),
                    ("__connect_offset", "bigint", "NO"), ("n", "bigint", "NO"), ("label", "text", "NO"),
                    ("extra", "double precision", "YES")]

    # insert.mode update changes existing rows only, keyed by a value field
    postgres.execute("CREATE TABLE upd (n BIGINT PRIMARY KEY, label TEXT NOT NULL)", db)
    postgres.execute("INSERT INTO upd VALUES (1, 'old'), (2, 'old')", db)
    p.produce("upd", value=envelope(v1, {"n": 2, "label": "new"}))
    p.produce("upd", value=envelope(v1, {"n": 7, "label": "nowhere"}))
    assert p.flush(10) == 0
    create(worker, "upd-sink", {**common, "topics": "upd", "insert.mode": "update", "pk.mode": "record_value",
                                "pk.fields": "n"})
    wait_for(lambda: table("SELECT n, label FROM upd ORDER BY n") == [(1, "old"), (2, "new")], what="the update")

    # a write the database refuses is retried max.retries times, retry.backoff.ms apart, then the task fails
    p.produce("dup", value=envelope(v1, {"n": 1, "label": "dup"}))
    assert p.flush(10) == 0
    create(worker, "dup-sink", {**common, "topics": "dup", "table.name.format": "upd", "max.retries": "2",
                                "retry.backoff.ms": "50"})
    wait_for(lambda: states(worker, "dup-sink") == ["RUNNING", "FAILED"], what="dup-sink FAILED")
    trace = worker.request("GET", "/connectors/dup-sink/tasks/0/status")[1]["trace"]
    assert "duplicate key value violates unique constraint" in trace, trace
    assert worker.log_text().count("Write of 1 records failed, remainingRetries=") >= 3

    # with a dead letter queue the worker gives the task an errant record reporter: after the retries the records
    # go one by one, and the one the database refuses is dead-lettered (stage TASK_PUT) while the others are written
    for n, label in ((5, "five"), (1, "dup"), (6, "six")):
        p.produce("dup-dlq-in", value=envelope(v1, {"n": n, "label": label}))
    assert p.flush(10) == 0
    create(worker, "dup-tolerant", {**common, "topics": "dup-dlq-in", "table.name.format": "upd", "max.retries": "0",
                                    "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dup-dlq",
                                    "errors.deadletterqueue.topic.replication.factor": "1",
                                    "errors.deadletterqueue.context.headers.enable": "true"})
    wait_for(lambda: table("SELECT n, label FROM upd ORDER BY n") == [(1, "old"), (2, "new"), (5, "five"),
                                                                      (6, "six")], what="the records around it")
    [dead] = consume_all(broker.bootstrap, "dup-dlq", 1)
    assert json.loads(dead.value())["payload"] == {"n": 1, "label": "dup"}
    headers = dict(dead.headers())
    assert (headers["__connect.errors.stage"], headers["__connect.errors.class.name"],
            headers["__connect.errors.exception.class.name"], headers["__connect.errors.offset"]) == \
        (b"TASK_PUT", b"org.apache.kafka.connect.sink.SinkTask", b"java.sql.SQLException", b"1")
    assert b"duplicate key value violates unique constraint" in headers["__connect.errors.exception.message"]
    assert states(worker, "dup-tolerant") == ["RUNNING", "RUNNING"]

    # a record without a Struct value: Confluent's RecordValidator message
    p.produce("schemaless", value=b'{"schema": null, "payload": {"n": 1}}')
    assert p.flush(10) == 0
    create(worker, "schemaless-sink", {**common, "topics": "schemaless", "auto.create": "true"})
    wait_for(lambda: states(worker, "schemaless-sink") == ["RUNNING", "FAILED"], what="schemaless-sink FAILED")
    trace = worker.request("GET", "/connectors/schemaless-sink/tasks/0/status")[1]["trace"]
    assert "Sink connector 'schemaless-sink' is configured with 'delete.enabled=false' and 'pk.mode=none' and " \
           "therefore requires records with a non-null Struct value and non-null Struct schema, but found record " \
           "at (topic='schemaless',partition=0,offset=0," in trace, trace
    for name in ("kafka-pk", "upd-sink", "dup-sink", "dup-tolerant", "schemaless-sink"):
        assert worker.request("DELETE", f"/connectors/{name}")[0] == 204
