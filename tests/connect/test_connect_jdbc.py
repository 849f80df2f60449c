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


def rows(postgres, db: str, sql: str) -> list[tuple]:
    return postgres.execute(sql, db)


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
    create(worker, "pg-sink", {
        "connector.class": SINK, "connection.url": postgres.jdbc_url(db), "connection.user": postgres.USER,
        "topics": "pg_customers", "table.name.format": "replica_${topic}", "insert.mode": "upsert",
        "pk.mode": "record_key", "pk.fields": "id", "delete.enabled": "true", "auto.create": "true",
        "auto.evolve": "true"})
    replica = "SELECT id, name, balance FROM replica_pg_customers ORDER BY id"

    def replicated():
        try:
            return rows(postgres, db, replica)
        except Exception:  # the sink creates the table with its first batch
            return None

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
    for name in ("pg-source", "pg-sink"):
        assert worker.request("DELETE", f"/connectors/{name}")[0] == 204


def test_sqlite_source_to_topic_and_sqlite_sink(broker, worker, tmp_path):
    src, dst = tmp_path / "source.db", tmp_path / "replica.db"
    with sqlite3.connect(src) as c:
        c.execute("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, label TEXT, qty INTEGER)")
        c.executemany("INSERT INTO items (label, qty) VALUES (?, ?)", [("a", 1), ("b", 2), ("c", None)])
    create(worker, "lite-source", {
        "connector.class": SOURCE, "connection.url": f"jdbc:sqlite:{src}", "mode": "incrementing",
        "incrementing.column.name": "id", "table.whitelist": "items", "topic.prefix": "lite_",
        "poll.interval.ms": "100", "batch.max.rows": "2", **KEY_ID})
    create(worker, "lite-sink", {
        "connector.class": SINK, "connection.url": f"jdbc:sqlite:{dst}", "topics": "lite_items",
        "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id", "auto.create": "true"})
    msgs = consume_all(broker.bootstrap, "lite_items", 3)
    assert [json.loads(m.value())["payload"] for m in msgs] == [
        {"id": 1, "label": "a", "qty": 1}, {"id": 2, "label": "b", "qty": 2}, {"id": 3, "label": "c", "qty": None}]
    assert json.loads(msgs[0].value())["schema"]["name"] == "items"

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
    body = wait_for(lambda: [o for o in worker.request("GET", "/connectors/lite-source/offsets")[1]["offsets"]
                             if o["offset"] == {"incrementing": 4}], what="the offset")
    assert body[0]["partition"] == {"protocol": "1", "table": "items"}
    for name in ("lite-source", "lite-sink"):
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
    source = {"name": "bad-source", "connector.class": SOURCE, "connection.url": url, "mode": "bulk", "topic.prefix": "x-"}
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
    copied = "SELECT id, what FROM copy ORDER BY id"

    def copy():
        try:
            return rows(postgres, db, copied)
        except Exception:
            return None
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
