"""ksqlDB's AVRO, JSON_SR and PROTOBUF formats through Brook's schema registry: a stream whose columns are inferred
from a producer's registered Avro schema, DESCRIBE, push queries, persistent queries whose sinks register their
subjects as ksqlDB names them (read back with confluent-kafka's deserializers), pull queries, INSERT VALUES, and
ksqlDB's errors for an absent subject or a schema of another format."""

from __future__ import annotations

import json
import struct

import kafka_wire
import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from registry.registry_helpers import RegistryProcess
from sql_helpers import KsqlProcess, consume

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
RIDER = {"type": "record", "name": "Rider", "namespace": "demo", "fields": [
    {"name": "PROFILEID", "type": "string"}, {"name": "LATITUDE", "type": "double"},
    {"name": "LONGITUDE", "type": "double"},
    {"name": "TAGS", "type": ["null", {"type": "array", "items": "string"}], "default": None}]}
RIDERS = [{"PROFILEID": "c2309eec", "LATITUDE": 37.7877, "LONGITUDE": -122.4205, "TAGS": ["a"]},
          {"PROFILEID": "18f4ea86", "LATITUDE": 37.3903, "LONGITUDE": -122.0643, "TAGS": []},
          {"PROFILEID": "4ab5cbad", "LATITUDE": 37.3952, "LONGITUDE": -122.0813, "TAGS": ["b", "c"]}]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from conftest import module_broker

    with module_broker(tmp_path_factory, "ksql-sr") as broker:
        d = tmp_path_factory.mktemp("ksql-sr")
        registry = RegistryProcess(d / "registry.log", broker.bootstrap).start()
        k = KsqlProcess(d / "ksql.log", broker.bootstrap, {"ksql.schema.registry.url": registry.url}).start()
        try:
            client = SchemaRegistryClient({"url": registry.url})
            ser = AvroSerializer(client, json.dumps(RIDER))
            p = Producer({"bootstrap.servers": broker.bootstrap})
            for r in RIDERS:
                p.produce("locations-avro", key=r["PROFILEID"].encode(),
                          value=ser(r, SerializationContext("locations-avro", MessageField.VALUE)))
            assert p.flush(30) == 0
            status, body = k.ksql("CREATE STREAM riders WITH (kafka_topic='locations-avro', value_format='AVRO');")
            assert status == 200, body
            yield broker, registry, k, client
        finally:
            k.stop()
            registry.stop()


def stream(k, sql: str, limit_rows: int) -> list:
    status, _, body = k.request("POST", "/query-stream", {"sql": sql, "properties": {"auto.offset.reset": "earliest"}},
                                headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
    assert status == 200, body
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert len(lines) == limit_rows + 1
    return lines


def create_as(k, registry, sql: str, subject: str) -> dict:
    """Run a CREATE ... AS SELECT from the beginning; the latest schema of its sink's subject."""
    status, body = k.ksql(sql, EARLIEST)
    assert status == 200, body
    status, latest = registry.call("GET", f"/subjects/{subject}/versions/latest")
    assert status == 200, latest
    return latest


def test_columns_inferred_from_the_registered_schema(env):
    _, _, k, _ = env
    desc = k.ksql("DESCRIBE riders;")[1][0]["sourceDescription"]  # type: ignore[index]
    assert desc["valueFormat"] == "AVRO" and desc["keyFormat"] == "KAFKA"
    assert [(f["name"], f["schema"]["type"]) for f in desc["fields"]] == [
        ("PROFILEID", "STRING"), ("LATITUDE", "DOUBLE"), ("LONGITUDE", "DOUBLE"), ("TAGS", "ARRAY")]
    assert desc["fields"][3]["schema"]["memberSchema"]["type"] == "STRING"
    # VALUE_SCHEMA_ID names the schema instead of the latest
    _, registry, _, _ = env
    _, first = registry.call("GET", "/subjects/locations-avro-value/versions/1")
    status, body = k.ksql(f"CREATE STREAM riders_v1 WITH (kafka_topic='locations-avro', value_format='AVRO', "
                          f"value_schema_id={first['id']});")  # type: ignore[index]
    assert status == 200, body
    desc = k.ksql("DESCRIBE riders_v1;")[1][0]["sourceDescription"]  # type: ignore[index]
    assert [f["name"] for f in desc["fields"]] == ["PROFILEID", "LATITUDE", "LONGITUDE", "TAGS"]
    status, body = k.ksql("CREATE STREAM riders_v9 WITH (kafka_topic='locations-avro', value_format='AVRO', "
                          "value_schema_id=9999);")
    assert status == 400 and "does not exist in the Schema Registry" in body["message"]  # type: ignore[index]
    lines = stream(k, "SELECT profileId, tags FROM riders WHERE latitude < 37.5 EMIT CHANGES LIMIT 2;", 2)
    assert lines[0]["columnTypes"] == ["STRING", "ARRAY<STRING>"]
    assert lines[1:] == [["18f4ea86", []], ["4ab5cbad", ["b", "c"]]]


def test_csas_registers_ksqldbs_avro_schema(env):
    broker, registry, k, client = env
    latest = create_as(k, registry, "CREATE STREAM nearby AS SELECT profileId, latitude FROM riders WHERE "
                       "latitude < 37.5 EMIT CHANGES;", "NEARBY-value")
    assert json.loads(latest["schema"]) == {
        "type": "record", "name": "KsqlDataSourceSchema", "namespace": "io.confluent.ksql.avro_schemas",
        "fields": [{"name": "PROFILEID", "type": ["null", "string"], "default": None},
                   {"name": "LATITUDE", "type": ["null", "double"], "default": None}],
        "connect.name": "io.confluent.ksql.avro_schemas.KsqlDataSourceSchema"}
    de = AvroDeserializer(client)
    ctx = SerializationContext("NEARBY", MessageField.VALUE)
    assert [de(v, ctx) for _, v in consume(broker.bootstrap, "NEARBY", 2)] == [
        {"PROFILEID": "18f4ea86", "LATITUDE": 37.3903}, {"PROFILEID": "4ab5cbad", "LATITUDE": 37.3952}]
    assert stream(k, "SELECT * FROM nearby EMIT CHANGES LIMIT 1;", 1)[1] == ["18f4ea86", 37.3903]


def test_csas_with_value_schema_id_writes_that_schema_with_its_defaults(env):
    # avro.json "VALUE_SCHEMA_ID with compound types and default value" (and "... in the end of schema"): the
    # registered schema's default for a NULL, and for a field the query does not select
    broker, registry, k, client = env
    schema = {"type": "record", "name": "Nearby", "namespace": "com.acme", "fields": [
        {"name": "PROFILEID", "type": "string"}, {"name": "SCORE", "type": "int", "default": 7},
        {"name": "ORIGIN", "type": "string", "default": "brook"}]}
    status, body = registry.call("POST", "/subjects/SCORED-value/versions", {"schema": json.dumps(schema)})
    assert status == 200, body
    create_as(k, registry, f"CREATE STREAM scored WITH (value_format='AVRO', value_schema_id={body['id']}) AS "
              "SELECT profileId, CAST(NULL AS INT) AS score FROM riders WHERE latitude < 37.5;", "SCORED-value")
    de = AvroDeserializer(client)
    ctx = SerializationContext("SCORED", MessageField.VALUE)
    assert [de(v, ctx) for _, v in consume(broker.bootstrap, "SCORED", 1)] == [
        {"PROFILEID": "18f4ea86", "SCORE": 7, "ORIGIN": "brook"}]


def test_json_sr_sink_and_insert_values(env):
    broker, registry, k, client = env
    latest = create_as(k, registry, "CREATE STREAM riders_json WITH (value_format='JSON_SR') AS SELECT profileId, "
                       "longitude FROM riders EMIT CHANGES;", "RIDERS_JSON-value")
    assert latest["schemaType"] == "JSON"
    assert json.loads(latest["schema"])["properties"]["PROFILEID"] == {
        "oneOf": [{"type": "null"}, {"type": "string"}], "connect.index": 0}
    de = JSONDeserializer(None, schema_registry_client=client)
    first = consume(broker.bootstrap, "RIDERS_JSON", 1)[0][1]
    assert de(first, SerializationContext("RIDERS_JSON", MessageField.VALUE)) == \
        {"PROFILEID": "c2309eec", "LONGITUDE": -122.4205}
    # INSERT VALUES into the inferred stream writes with the producer's registered schema
    result = k.ksql("INSERT INTO riders (profileId, latitude, longitude) VALUES ('new1', 1.5, 2.5);")
    assert result == (200, []), result
    records = consume(broker.bootstrap, "locations-avro", len(RIDERS) + 1)
    ids = {int.from_bytes(v[1:5], "big") for _, v in records}
    assert len(ids) == 1  # no new schema was registered
    assert AvroDeserializer(client)(records[-1][1], SerializationContext("locations-avro", MessageField.VALUE)) == \
        {"PROFILEID": "new1", "LATITUDE": 1.5, "LONGITUDE": 2.5, "TAGS": None}


def test_protobuf_table_and_pull_query(env):
    _, registry, k, _ = env
    latest = create_as(k, registry, "CREATE TABLE rider_counts WITH (value_format='PROTOBUF') AS SELECT profileId, "
                       "COUNT(*) AS n FROM riders GROUP BY profileId EMIT CHANGES;", "RIDER_COUNTS-value")
    assert latest["schemaType"] == "PROTOBUF"
    assert "message ConnectDefault1 {" in latest["schema"] and "int64 N = 1;" in latest["schema"]

    def counted():
        status, _, body = k.request("POST", "/query", {"ksql": "SELECT * FROM rider_counts WHERE profileId = "
                                                       "'4ab5cbad';", "streamsProperties": {}})
        if status != 200:
            assert b"not ready yet" in body, body
            return None
        rows = [x["row"]["columns"] for x in json.loads(body)[1:] if "row" in x]
        return rows or None
    assert kafka_wire.wait_for(counted, timeout=30) == [["4ab5cbad", 1]]
    # the sink's value columns inferred back from its Protobuf schema, the key declared
    status, body = k.ksql("CREATE TABLE counts_again (profileId STRING PRIMARY KEY) WITH (kafka_topic='RIDER_COUNTS', "
                          "value_format='PROTOBUF');")
    assert status == 200, body
    desc = k.ksql("DESCRIBE counts_again;")[1][0]["sourceDescription"]  # type: ignore[index]
    assert [(f["name"], f["schema"]["type"], f.get("type")) for f in desc["fields"]] == [
        ("PROFILEID", "STRING", "KEY"), ("N", "BIGINT", None)]


@pytest.mark.parametrize("sql, message", [
    ("CREATE STREAM absent WITH (kafka_topic='locations-avro', value_format='JSON_SR');",
     "Value schema is not in the expected format. You may want to set VALUE_FORMAT to 'AVRO'."),
    ("CREATE STREAM absent WITH (kafka_topic='nothing-here', value_format='AVRO');",
     "Schema for message values on topic 'nothing-here' does not exist in the Schema Registry.\nSubject: "
     "nothing-here-value\nPossible causes include:"),
    ("CREATE STREAM absent WITH (kafka_topic='locations-avro', value_format='AVRO', key_format='AVRO');",
     "Schema for message keys on topic 'locations-avro' does not exist in the Schema Registry."),
])
def test_ksqldb_errors(env, sql, message):
    _, _, k, _ = env
    status, body = k.ksql(sql)
    assert status == 400 and body["error_code"] == 40001 and message in body["message"], body  # type: ignore[index]


def print_lines(k, sql: str) -> list[str]:
    status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": {}})
    assert status == 200, body
    return [line for line in body.decode().splitlines() if line]  # empty lines are ksqlDB's keep-alives


def test_print_detects_the_formats(env):
    _, _, k, _ = env
    lines = print_lines(k, "PRINT 'locations-avro' FROM BEGINNING INTERVAL 2 LIMIT 2;")
    # 8-byte string keys also read as KAFKA_BIGINT and KAFKA_DOUBLE, so ksqlDB prints them as the first: a BIGINT
    assert lines[0] == "Key format: KAFKA_BIGINT or KAFKA_DOUBLE or KAFKA_STRING"
    assert lines[1].startswith("Value format: AVRO")
    assert len(lines) == 4 and all(line.startswith("rowtime: ") and line.endswith(", partition: 0")
                                   for line in lines[2:])
    assert ', value: {"PROFILEID": "c2309eec", "LATITUDE": 37.7877, "LONGITUDE": -122.4205, "TAGS": ["a"]}' \
        in lines[2]
    assert '"PROFILEID": "4ab5cbad"' in lines[3]  # INTERVAL 2: every other record
    lines = print_lines(k, "PRINT 'RIDER_COUNTS' FROM BEGINNING LIMIT 1;")
    assert lines[0] == "Key format: KAFKA_BIGINT or KAFKA_DOUBLE or KAFKA_STRING"
    assert lines[1].startswith("Value format: PROTOBUF")
    bigint = struct.unpack(">q", b"c2309eec")[0]
    assert lines[2].endswith(f", key: {bigint}, value: N: 1, partition: 0")
    lines = print_lines(k, "PRINT NEARBY FROM BEGINNING LIMIT 1;")  # an identifier is upper-cased
    assert lines[:2] == ["Key format: ¯\\_(ツ)_/¯ - no data processed", "Value format: AVRO"]
    assert ", key: <null>, value: " in lines[2]
    status, _, body = k.request("POST", "/query", {"ksql": "PRINT nearby_nothing;", "streamsProperties": {}})
    assert status == 400 and json.loads(body)["message"] == (
        "Could not find topic 'NEARBY_NOTHING', or the KSQL user does not have permissions to list the topic. "
        "Topic names are case-sensitive.")
    status, body = k.ksql("PRINT 'locations-avro';")
    assert status == 400 and body["error_code"] == 40002  # type: ignore[index]


def test_explain(env):
    _, _, k, _ = env
    query_id = next(q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"]  # type: ignore[index]
                    if q["sinks"] == ["NEARBY"])
    status, body = k.ksql(f"EXPLAIN {query_id};")
    assert status == 200, body
    d = body[0]["queryDescription"]  # type: ignore[index]
    assert (d["id"], d["sources"], d["sinks"], d["queryType"], d["state"]) == (
        query_id, ["RIDERS"], ["NEARBY"], "PERSISTENT", "RUNNING")
    assert [(f["name"], f["schema"]["type"]) for f in d["fields"]] == [("PROFILEID", "STRING"), ("LATITUDE", "DOUBLE")]
    assert d["executionPlan"].startswith(f" > [ SINK ] | Schema: PROFILEID STRING, LATITUDE DOUBLE | Logger: "
                                         f"{query_id}.NEARBY\n")
    assert "[ FILTER ]" in d["executionPlan"] and "[ SOURCE ]" in d["executionPlan"]
    status, body = k.ksql("EXPLAIN SELECT profileId FROM riders EMIT CHANGES;")
    assert status == 200 and body[0]["queryDescription"]["queryType"] == "PUSH"  # type: ignore[index]
    status, body = k.ksql("EXPLAIN CSAS_NOPE_1;")
    assert status == 400 and "Query with id:CSAS_NOPE_1 does not exist" in body["message"]  # type: ignore[index]


def test_avro_key_format(env):
    broker, registry, k, client = env
    latest = create_as(k, registry, "CREATE TABLE rider_keys WITH (format='AVRO') AS SELECT profileId, COUNT(*) AS n "
                       "FROM riders GROUP BY profileId EMIT CHANGES;", "RIDER_KEYS-key")
    assert json.loads(latest["schema"]) == ["null", "string"]  # a single key column is written unwrapped
    de = AvroDeserializer(client)
    key, value = consume(broker.bootstrap, "RIDER_KEYS", 1)[0]
    assert de(key, SerializationContext("RIDER_KEYS", MessageField.KEY)) == "c2309eec"
    assert de(value, SerializationContext("RIDER_KEYS", MessageField.VALUE)) == {"N": 1}
    desc = k.ksql("DESCRIBE rider_keys;")[1][0]["sourceDescription"]  # type: ignore[index]
    assert (desc["keyFormat"], desc["valueFormat"]) == ("AVRO", "AVRO")


def test_table_table_join_of_avro_keys_with_tombstones(env):
    # joins.json "table-table - SR-enabled key format - with nulls": tombstones carry AVRO keys (read with the
    # table's key serde); "on ARRAY column - AVRO": a stream re-keyed for a join is written in its partner's
    # AVRO key format
    broker, registry, k, client = env
    for name, col in (("t1", "NAME"), ("t2", "F1")):
        status, body = k.ksql(f"CREATE TABLE {name} (ID BIGINT PRIMARY KEY, {col} varchar) WITH (kafka_topic="
                              f"'{name}', key_format='AVRO', value_format='JSON', partitions=1);")
        assert status == 200, body
    ser = AvroSerializer(client, '["null", "long"]', conf={"auto.register.schemas": False, "use.latest.version": True})
    p = Producer({"bootstrap.servers": broker.bootstrap})
    inputs = [("t1", {"NAME": "zero"}), ("t2", {"F1": "blah"}), ("t2", None), ("t1", None), ("t2", {"F1": "foo"}),
              ("t1", {"NAME": "goo"})]
    for ts, (topic, value) in enumerate(inputs, start=1):
        p.produce(topic, key=ser(0, SerializationContext(topic, MessageField.KEY)),
                  value=None if value is None else json.dumps(value).encode(), timestamp=ts)
        assert p.flush(30) == 0
    status, body = k.ksql("CREATE TABLE OUTPUT_T AS SELECT T1.id, name, f1 FROM T1 left join T2 on T1.id = T2.id;",
                          EARLIEST)
    assert status == 200, body
    de = AvroDeserializer(client)
    got = [(de(key, SerializationContext("OUTPUT_T", MessageField.KEY)), None if v is None else json.loads(v))
           for key, v in consume(broker.bootstrap, "OUTPUT_T", 5)]
    assert got == [(0, {"NAME": "zero", "F1": None}), (0, {"NAME": "zero", "F1": "blah"}),
                   (0, {"NAME": "zero", "F1": None}), (0, None), (0, {"NAME": "goo", "F1": "foo"})]
    for name, col in (("L", "L"), ("R", "R")):
        status, body = k.ksql(f"CREATE STREAM {name}_ARR (ID STRING KEY, {col}0 ARRAY<INT>, {col}1 INT) WITH ("
                              f"kafka_topic='{name.lower()}_arr', format='AVRO', partitions=1);")
        assert status == 200, body
    status, body = k.ksql("INSERT INTO L_ARR (ID, L0, L1) VALUES ('a', ARRAY[3, 1], 1);")
    assert status == 200, body
    status, body = k.ksql("INSERT INTO R_ARR (ID, R0, R1) VALUES ('b', ARRAY[3, 1], 2);")
    assert status == 200, body
    status, body = k.ksql("CREATE STREAM OUTPUT_ARR as SELECT L_ARR.L0, L_ARR.ID, L1, R1 FROM L_ARR join R_ARR "
                          "WITHIN 11 SECONDS ON L_ARR.L0 = R_ARR.R0;", EARLIEST)
    assert status == 200, body
    key, value = consume(broker.bootstrap, "OUTPUT_ARR", 1)[0]
    assert de(key, SerializationContext("OUTPUT_ARR", MessageField.KEY)) == [3, 1]
    assert de(value, SerializationContext("OUTPUT_ARR", MessageField.VALUE)) == {"L_ARR_ID": "a", "L1": 1, "R1": 2}


def test_protobuf_sink_with_maps_and_structs(env):
    _, registry, k, _ = env
    # histogram.json "histogram string - PROTOBUF", collect-list.json "collect_list timestamp map - PROTOBUF": the
    # sink's map entries and nested messages are named as protoc names them (COUNTSEntry, fully qualified), so the
    # schema the serializer registers is the one the CREATE registered
    latest = create_as(k, registry, "CREATE TABLE rider_hist WITH (value_format='PROTOBUF') AS SELECT profileId, "
                       "HISTOGRAM(profileId) AS counts, LATEST_BY_OFFSET(MAP('t' := FROM_UNIXTIME(1000))) AS tm, "
                       "COLLECT_LIST(STRUCT(lat := latitude)) AS s FROM riders GROUP BY profileId EMIT CHANGES;",
                       "RIDER_HIST-value")
    assert "map<string, int64> COUNTS = 1;" in latest["schema"], latest
    lines = stream(k, "SELECT * FROM rider_hist WHERE profileId = '4ab5cbad' EMIT CHANGES LIMIT 1;", 1)
    assert "map<string, google.protobuf.Timestamp> TM = 2;" in latest["schema"], latest
    row = lines[1]
    assert row[:2] == ["4ab5cbad", {"4ab5cbad": 1}] and list(row[2]) == ["t"] and row[3] == [{"LAT": 37.3952}]
