"""Two SQL servers sharing one ksql.service.id, as a ksqlDB cluster: both follow the command topic (a statement sent
to either is known to both, applied once, in order), both run every persistent query, and the query's consumer
group splits its partitions between them; when one server stops, the other takes its partitions over with their
state (the changelog the first one wrote).  Real server processes over a real broker, driven over REST."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from kafka_wire import wait_for
from sql_helpers import KsqlProcess, consume, produce

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
USERS = [f"user{i:02d}" for i in range(24)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from conftest import module_broker

    with module_broker(tmp_path_factory, "ksql-shared") as broker:
        servers = []
        try:
            for name in ("a", "b"):
                path = tmp_path_factory.mktemp(f"ksql-shared-{name}") / "ksql.log"
                servers.append(KsqlProcess(path, broker.bootstrap, {"ksql.service.id": "shared_",
                                                                    "ksql.streams.commit.interval.ms": "200"}).start())
            yield broker, servers[0], servers[1]
        finally:
            for k in servers:
                k.stop()


def ok(k: KsqlProcess, text: str) -> list:
    status, body = k.ksql(text, EARLIEST)
    assert status == 200, body
    assert isinstance(body, list)
    return body


def names(k: KsqlProcess, what: str) -> list[str]:
    body = ok(k, f"SHOW {what};")
    return sorted(s.get("name") or s.get("id") for s in body[0][what.lower()])


def group_members(bootstrap: str, group: str) -> list[list[int]]:
    """The partitions each member of the group holds."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    desc = admin.describe_consumer_groups([group])[group].result(10)
    return sorted(sorted(tp.partition for tp in m.assignment.topic_partitions) for m in desc.members)


def latest_counts(bootstrap: str, topic: str, expected: int) -> dict[str, int]:
    records = consume(bootstrap, topic, 10_000, timeout=2)
    out: dict[str, int] = {}
    for key, value in records:
        out[key.decode()] = json.loads(value)["VIEWS"]
    return out if len(out) == expected else {}


def pull_counts(k: KsqlProcess) -> dict[str, int]:
    status, _, raw = k.request("POST", "/query", {"ksql": "SELECT * FROM views;", "streamsProperties": {}})
    assert status == 200, raw
    return {i["row"]["columns"][0]: i["row"]["columns"][1] for i in json.loads(raw) if "row" in i}


def test_statements_from_either_server_reach_both(cluster):
    _, a, b = cluster
    ok(a, "CREATE STREAM clicks (userid VARCHAR KEY, page VARCHAR) WITH (kafka_topic='clicks', "
          "value_format='json', partitions=2);")
    assert "CLICKS" in names(b, "STREAMS")  # a statement B did not receive is known at once
    body = ok(b, "CREATE STREAM home_clicks AS SELECT * FROM clicks WHERE page = 'home';")
    query_id = body[0]["commandStatus"]["queryId"]
    assert re.fullmatch(r"CSAS_HOME_CLICKS_\d+", query_id)
    for k in (a, b):  # the same query, under the same id, runs on both
        assert names(k, "STREAMS") == ["CLICKS", "HOME_CLICKS"]
        assert names(k, "QUERIES") == [query_id]
    ok(a, f"TERMINATE {query_id};")
    ok(a, "DROP STREAM home_clicks;")
    for k in (a, b):
        assert names(k, "STREAMS") == ["CLICKS"] and names(k, "QUERIES") == []
    # B's own statements were applied once: read back from the command topic, they are skipped
    assert "Skipped command" not in b.log_path.read_text() + a.log_path.read_text()


def test_conflicting_statements_on_both_servers_at_once(cluster):
    """Writers are serialized (a transactional command producer, as ksqlDB's): of two CREATEs of one name sent to
    the two servers at the same moment, one wins and the other is refused, and both servers agree on the winner."""
    _, a, b = cluster
    for round_ in range(3):
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda kt: kt[0].ksql(kt[1]), [
                (k, f"CREATE STREAM dup{round_} (from_{n} INT) WITH (kafka_topic='clicks', value_format='json');")
                for k, n in ((a, "a"), (b, "b"))]))
        assert sorted(status for status, _ in answers) == [200, 400], answers
        refused = next(body for status, body in answers if status == 400)
        assert refused["message"] == f"Cannot add stream 'DUP{round_}': A stream with the same name already exists"
        fields = [[f["name"] for f in ok(k, f"DESCRIBE dup{round_};")[0]["sourceDescription"]["fields"]]
                  for k in (a, b)]
        assert fields[0] == fields[1] and fields[0] in (["FROM_A"], ["FROM_B"]), fields
    assert "Skipped command" not in b.log_path.read_text() + a.log_path.read_text()


def test_a_persistent_query_shares_its_partitions_and_hands_them_over(cluster):
    broker, a, b = cluster
    ok(a, "CREATE STREAM pageviews (userid VARCHAR KEY, page VARCHAR) WITH (kafka_topic='pageviews', "
          "value_format='json', partitions=4);")
    body = ok(b, "CREATE TABLE views AS SELECT userid, COUNT(*) AS views FROM pageviews GROUP BY userid;")
    query_id = body[0]["commandStatus"]["queryId"]
    group = f"_confluent-ksql-shared_query_{query_id}"
    wait_for(lambda: group_members(broker.bootstrap, group) == [[0, 1], [2, 3]], timeout=60,
             what="both servers in the query's group, two partitions each")

    produce(broker.bootstrap, "pageviews", [(u.encode(), b'{"page": "home"}') for u in USERS * 3])
    wait_for(lambda: latest_counts(broker.bootstrap, "VIEWS", len(USERS)) == {u: 3 for u in USERS}, timeout=60,
             what="every user's three views counted")
    # each server's store follows the other's partitions (standby replicas): pull queries see every user on both
    for k in (a, b):
        wait_for(lambda k=k: pull_counts(k) == {u: 3 for u in USERS}, timeout=30, what="every count on a pull query")

    # B leaves: A takes its partitions over, and their counts go on from the changelog B wrote
    b.stop()
    wait_for(lambda: group_members(broker.bootstrap, group) == [[0, 1, 2, 3]], timeout=60,
             what="A alone in the group")
    produce(broker.bootstrap, "pageviews", [(u.encode(), b'{"page": "faq"}') for u in USERS])
    wait_for(lambda: latest_counts(broker.bootstrap, "VIEWS", len(USERS)) == {u: 4 for u in USERS}, timeout=60,
             what="every user's fourth view counted on A")
    status, _, raw = a.request("POST", "/query", {"ksql": "SELECT * FROM views WHERE userid = 'user07';",
                                                 "streamsProperties": {}})
    assert status == 200 and json.loads(raw)[1]["row"]["columns"] == ["user07", 4]

    # B comes back: it replays the command topic (the stream, the table, the query) and rejoins the group
    b.start()
    assert names(b, "TABLES") == ["VIEWS"] and names(b, "QUERIES") == [query_id]
    wait_for(lambda: group_members(broker.bootstrap, group) == [[0, 1], [2, 3]], timeout=60,
             what="B back in the query's group")
    produce(broker.bootstrap, "pageviews", [(u.encode(), b'{"page": "home"}') for u in USERS])
    wait_for(lambda: latest_counts(broker.bootstrap, "VIEWS", len(USERS)) == {u: 5 for u in USERS}, timeout=60,
             what="every user's fifth view counted")
