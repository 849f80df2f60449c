"""The JDBC connectors' pure parts: JDBC URLs as SQLAlchemy URLs, tables split across tasks as Confluent's
ConnectorUtils.groupPartitions splits them, and java.sql.Timestamp's millis/nanos in source offsets."""

from __future__ import annotations

import datetime as dt

import pytest

from brook.connect.data import ConnectError
from brook.connect.jdbc.dialect import sqlalchemy_url
from brook.connect.jdbc.querier import from_millis_nanos, to_millis_nanos
from brook.connect.jdbc.source import group_partitions


def test_jdbc_urls_map_to_sqlalchemy_urls():
    url = sqlalchemy_url("jdbc:postgresql://db.example:5433/shop?user=u&password=p&sslmode=require", None, None)
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password, dict(url.query)) == (
        "postgresql+psycopg", "db.example", 5433, "shop", "u", "p", {"sslmode": "require"})
    url = sqlalchemy_url("jdbc:postgresql://h/shop?user=u", "other", "secret")  # connection.user wins
    assert (url.username, url.password, url.port) == ("other", "secret", None)
    assert sqlalchemy_url("jdbc:postgresql:shop", None, None).host == "localhost"
    assert str(sqlalchemy_url("jdbc:sqlite:/tmp/a.db", None, None)) == "sqlite:////tmp/a.db"
    assert str(sqlalchemy_url("jdbc:sqlite::memory:", None, None)) == "sqlite://"
    with pytest.raises(ConnectError, match="No suitable driver found for jdbc:mysql://h/db"):
        sqlalchemy_url("jdbc:mysql://h/db", None, None)


def test_tables_are_grouped_as_connector_utils_does():
    assert group_partitions(list("abcde"), 2) == [["a", "b", "c"], ["d", "e"]]
    assert group_partitions(list("abc"), 3) == [["a"], ["b"], ["c"]]
    assert group_partitions(list("abcdefg"), 3) == [["a", "b", "c"], ["d", "e"], ["f", "g"]]


def test_timestamp_offsets_keep_microseconds():
    ts = dt.datetime(2026, 12, 2, 19, 0, 1, 123456, tzinfo=dt.UTC)
    millis, nanos = to_millis_nanos(ts)
    assert (millis % 1000, nanos) == (123, 123456000)
    assert from_millis_nanos(millis, nanos) == ts
    assert from_millis_nanos(millis, None) == ts.replace(microsecond=123000)
    before = dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC)
    assert from_millis_nanos(*to_millis_nanos(before)) == before
