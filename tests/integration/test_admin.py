"""The admin APIs through real admin clients (confluent-kafka's AdminClient, kafka-python's KafkaAdminClient):
topic create/delete, partitions, configs with Kafka's sources and defaults, cluster description, metadata,
DeleteRecords, ListOffsets -- and that every change survives a broker restart and a kill -9."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)
from conftest import BrokerProcess, module_broker

TIMEOUT = 15.0
WEEK_MS = "604800000"


@pytest.fixture(scope="module")
def shared_broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "admin") as b:
        yield b


def admin_for(b: BrokerProcess) -> AdminClient:
    return AdminClient({"bootstrap.servers": b.bootstrap})


@pytest.fixture
def admin(shared_broker) -> AdminClient:
    return admin_for(shared_broker)


def name(prefix: str = "adm") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ok(futures: dict) -> dict:
    return {k: f.result(timeout=TIMEOUT) for k, f in futures.items()}


def error_of(future) -> KafkaError:  # type: ignore[no-untyped-def]
    with pytest.raises(KafkaException) as info:
        future.result(timeout=TIMEOUT)
    return info.value.args[0]


def create(a: AdminClient, topic: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
    ok(a.create_topics([NewTopic(topic, partitions, 1, config=config or {})], operation_timeout=10))


def topic_names(a: AdminClient) -> set[str]:
    return set(a.list_topics(timeout=TIMEOUT).topics)


def topic_configs(a: AdminClient, topic: str) -> dict[str, ConfigEntry]:
    (entries,) = ok(a.describe_configs([ConfigResource(ResourceType.TOPIC, topic)])).values()
    return entries


def broker_configs(a: AdminClient, broker_id: str = "0") -> dict[str, ConfigEntry]:
    (entries,) = ok(a.describe_configs([ConfigResource(ResourceType.BROKER, broker_id)])).values()
    return entries


def value_source(entry: ConfigEntry) -> tuple[str | None, ConfigSource]:
    return entry.value, ConfigSource(entry.source)


def produce(bootstrap: str, topic: str, values: list[bytes], partition: int = 0, timestamps: list[int] | None = None,
            linger_ms: int = 0, compression: str = "none") -> list[int]:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": linger_ms, "compression.type": compression})
    offsets: list[int] = []
    errors = []

    def cb(err, m):  # type: ignore[no-untyped-def]
        errors.append(err) if err else offsets.append(m.offset())

    for i, v in enumerate(values):
        kwargs = {"timestamp": timestamps[i]} if timestamps else {}
        p.produce(topic, value=v, key=b"k%d" % i, partition=partition, on_delivery=cb, **kwargs)
        if linger_ms == 0:
            p.flush(TIMEOUT)  # one batch per record
    assert p.flush(TIMEOUT) == 0
    assert not errors, errors
    return offsets


def watermarks(bootstrap: str, topic: str, partition: int = 0) -> tuple[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT)
    finally:
        c.close()


def list_offset(a: AdminClient, topic: str, spec: OffsetSpec, partition: int = 0) -> tuple[int, int]:
    tp = TopicPartition(topic, partition)
    info = a.list_offsets({tp: spec}, request_timeout=TIMEOUT)[tp].result(timeout=TIMEOUT)
    return info.offset, info.timestamp


# -- CreateTopics ----------------------------------------------------------------------------------------
def test_create_topics_with_configs_and_partitions(admin, shared_broker):
    t = name()
    create(admin, t, 3, {"retention.ms": "3600000", "cleanup.policy": "compact", "segment.bytes": "100000"})
    md = admin.list_topics(topic=t, timeout=TIMEOUT).topics[t]
    assert md.error is None
    assert sorted(md.partitions) == [0, 1, 2]
    for p in md.partitions.values():
        assert (p.leader, p.replicas, p.isrs) == (0, [0], [0])
    cfg = topic_configs(admin, t)
    assert value_source(cfg["retention.ms"]) == ("3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    assert value_source(cfg["cleanup.policy"]) == ("compact", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    assert value_source(cfg["segment.bytes"]) == ("100000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    assert not cfg["retention.ms"].is_default
    for p in range(3):  # Kafka's on-disk layout, one directory per partition
        assert (shared_broker.data_dir / f"{t}-{p}" / "00000000000000000000.log").exists()


def test_create_topics_validate_only_creates_nothing(admin):
    t = name()
    ok(admin.create_topics([NewTopic(t, 4, 1, config={"retention.ms": "1000"})], validate_only=True))
    assert t not in topic_names(admin)
    # ...but validation still runs
    bad = admin.create_topics([NewTopic(t, 1, 1, config={"retention.ms": "soon"})], validate_only=True)[t]
    assert error_of(bad).code() == KafkaError.INVALID_CONFIG
    create(admin, t, 2)  # and the name is still free
    assert len(admin.list_topics(topic=t, timeout=TIMEOUT).topics[t].partitions) == 2


def test_create_topics_errors(admin):
    existing = name()
    create(admin, existing, 2)
    fresh, zero, rf, bad_value, bad_name = (name() for _ in range(5))
    bad_topic = "bad/topic"
    futures = admin.create_topics([
        NewTopic(existing, 5, 1),
        NewTopic(fresh, 1, 1),  # the good one in a mixed request still gets created
        NewTopic(zero, 0, 1),
        NewTopic(rf, 1, 2),
        NewTopic(bad_value, 1, 1, config={"retention.ms": "a week"}),
        NewTopic(bad_name, 1, 1, config={"no.such.config": "1"}),
        NewTopic(bad_topic, 1, 1),
    ], operation_timeout=10)
    futures[fresh].result(timeout=TIMEOUT)
    err = error_of(futures[existing])
    assert err.code() == KafkaError.TOPIC_ALREADY_EXISTS
    assert existing in err.str()
    assert error_of(futures[zero]).code() == KafkaError.INVALID_PARTITIONS
    assert error_of(futures[rf]).code() == KafkaError.INVALID_REPLICATION_FACTOR
    err = error_of(futures[bad_value])
    assert err.code() == KafkaError.INVALID_CONFIG
    assert "retention.ms" in err.str()
    assert error_of(futures[bad_name]).code() == KafkaError.INVALID_CONFIG
    assert error_of(futures[bad_topic]).code() == KafkaError.TOPIC_EXCEPTION
    names = topic_names(admin)
    assert fresh in names
    assert not {zero, rf, bad_value, bad_name, bad_topic} & names
    # the existing topic was not touched
    assert len(admin.list_topics(topic=existing, timeout=TIMEOUT).topics[existing].partitions) == 2


# -- DeleteTopics ----------------------------------------------------------------------------------------
def test_delete_topics(admin, shared_broker):
    t = name()
    create(admin, t, 2)
    assert produce(shared_broker.bootstrap, t, [b"a", b"b", b"c"]) == [0, 1, 2]
    ok(admin.delete_topics([t], operation_timeout=10))
    assert t not in topic_names(admin)
    assert not list(shared_broker.data_dir.glob(f"{t}-*")), "partition directories left behind"
    err = error_of(admin.delete_topics([t])[t])
    assert err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    never = name("never")
    assert error_of(admin.delete_topics([never])[never]).code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    # a re-created topic of the same name starts empty, at offset 0
    create(admin, t, 1)
    assert watermarks(shared_broker.bootstrap, t) == (0, 0)
    assert produce(shared_broker.bootstrap, t, [b"again"]) == [0]


# -- CreatePartitions ------------------------------------------------------------------------------------
def test_create_partitions_grow_and_refuse_shrink(admin, shared_broker):
    t = name()
    create(admin, t, 2)
    ok(admin.create_partitions([NewPartitions(t, 5)], validate_only=True))
    assert len(admin.list_topics(topic=t, timeout=TIMEOUT).topics[t].partitions) == 2
    ok(admin.create_partitions([NewPartitions(t, 5)], operation_timeout=10))
    assert sorted(admin.list_topics(topic=t, timeout=TIMEOUT).topics[t].partitions) == [0, 1, 2, 3, 4]
    assert produce(shared_broker.bootstrap, t, [b"new partition"], partition=4) == [0]
    err = error_of(admin.create_partitions([NewPartitions(t, 3)])[t])
    assert err.code() == KafkaError.INVALID_PARTITIONS
    assert error_of(admin.create_partitions([NewPartitions(t, 5)])[t]).code() == KafkaError.INVALID_PARTITIONS
    missing = name("missing")
    assert error_of(admin.create_partitions([NewPartitions(missing, 3)])[missing]).code() == \
        KafkaError.UNKNOWN_TOPIC_OR_PART
    assert len(admin.list_topics(topic=t, timeout=TIMEOUT).topics[t].partitions) == 5


# -- DescribeConfigs -------------------------------------------------------------------------------------
def test_describe_topic_configs_defaults_and_overrides(admin):
    t = name()
    create(admin, t, 1, {"retention.ms": "86400000"})
    cfg = topic_configs(admin, t)
    assert value_source(cfg["retention.ms"]) == ("86400000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    assert not cfg["retention.ms"].is_default
    for key, default in [("segment.bytes", "1073741824"), ("cleanup.policy", "delete"),
                         ("min.insync.replicas", "1"), ("max.message.bytes", "1048588"),
                         ("retention.bytes", "-1"), ("message.timestamp.type", "CreateTime"),
                         ("compression.type", "producer")]:
        assert value_source(cfg[key]) == (default, ConfigSource.DEFAULT_CONFIG), key
        assert cfg[key].is_default and not cfg[key].is_read_only, key
    plain = name()
    create(admin, plain)
    cfg = topic_configs(admin, plain)
    assert value_source(cfg["retention.ms"]) == (WEEK_MS, ConfigSource.DEFAULT_CONFIG)
    assert cfg["retention.ms"].is_default
    missing = name("missing")
    (future,) = admin.describe_configs([ConfigResource(ResourceType.TOPIC, missing)]).values()
    assert error_of(future).code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_describe_broker_configs_and_static_topic_defaults(broker_factory):
    b = broker_factory({"num.partitions": "4", "log.retention.ms": "3600000"}, name="static")
    a = admin_for(b)
    cfg = broker_configs(a)
    assert value_source(cfg["log.dirs"]) == (str(b.data_dir), ConfigSource.STATIC_BROKER_CONFIG)
    assert cfg["log.dirs"].is_read_only
    assert value_source(cfg["num.partitions"]) == ("4", ConfigSource.STATIC_BROKER_CONFIG)
    assert value_source(cfg["log.retention.ms"]) == ("3600000", ConfigSource.STATIC_BROKER_CONFIG)
    assert value_source(cfg["log.retention.hours"]) == ("168", ConfigSource.DEFAULT_CONFIG)
    assert value_source(cfg["log.segment.bytes"]) == ("1073741824", ConfigSource.DEFAULT_CONFIG)
    assert cfg["log.segment.bytes"].is_default
    # a topic without overrides inherits the broker's static value, and says where it comes from
    t = name()
    ok(a.create_topics([NewTopic(t)], operation_timeout=10))  # partitions from num.partitions
    assert len(a.list_topics(topic=t, timeout=TIMEOUT).topics[t].partitions) == 4
    tcfg = topic_configs(a, t)
    assert value_source(tcfg["retention.ms"]) == ("3600000", ConfigSource.STATIC_BROKER_CONFIG)
    assert value_source(tcfg["segment.bytes"]) == ("1073741824", ConfigSource.DEFAULT_CONFIG)


# -- AlterConfigs / IncrementalAlterConfigs --------------------------------------------------------------
def test_alter_configs_replaces_the_whole_override_set(admin):
    t = name()
    create(admin, t, 1, {"retention.ms": "1000", "segment.bytes": "50000"})
    with pytest.warns(DeprecationWarning):
        futures = admin.alter_configs([ConfigResource(ResourceType.TOPIC, t, set_config={"segment.bytes": "60000"})])
    ok(futures)
    cfg = topic_configs(admin, t)
    assert value_source(cfg["segment.bytes"]) == ("60000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    # AlterConfigs is not incremental: the retention.ms override it did not mention is gone
    assert value_source(cfg["retention.ms"]) == (WEEK_MS, ConfigSource.DEFAULT_CONFIG)
    with pytest.warns(DeprecationWarning):
        (future,) = admin.alter_configs([ConfigResource(ResourceType.TOPIC, t,
                                                        set_config={"segment.bytes": "huge"})]).values()
    assert error_of(future).code() == KafkaError.INVALID_CONFIG
    assert topic_configs(admin, t)["segment.bytes"].value == "60000"


def incremental(a: AdminClient, resource_type: ResourceType, resource: str,
                ops: list[tuple[str, str | None, AlterConfigOpType]]):  # type: ignore[no-untyped-def]
    entries = [ConfigEntry(n, v, incremental_operation=op) for n, v, op in ops]
    (future,) = a.incremental_alter_configs([ConfigResource(resource_type, resource,
                                                            incremental_configs=entries)]).values()
    return future


def test_incremental_alter_configs_set_delete_append_subtract(admin):
    t = name()
    create(admin, t, 1, {"retention.ms": "1000"})
    incremental(admin, ResourceType.TOPIC, t, [
        ("segment.bytes", "70000", AlterConfigOpType.SET),
        ("cleanup.policy", "compact", AlterConfigOpType.APPEND),
    ]).result(timeout=TIMEOUT)
    cfg = topic_configs(admin, t)
    assert value_source(cfg["segment.bytes"]) == ("70000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    assert value_source(cfg["retention.ms"]) == ("1000", ConfigSource.DYNAMIC_TOPIC_CONFIG)  # untouched
    assert value_source(cfg["cleanup.policy"]) == ("delete,compact", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    incremental(admin, ResourceType.TOPIC, t, [
        ("retention.ms", None, AlterConfigOpType.DELETE),
        ("cleanup.policy", "delete", AlterConfigOpType.SUBTRACT),
    ]).result(timeout=TIMEOUT)
    cfg = topic_configs(admin, t)
    assert value_source(cfg["retention.ms"]) == (WEEK_MS, ConfigSource.DEFAULT_CONFIG)
    assert value_source(cfg["cleanup.policy"]) == ("compact", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    assert value_source(cfg["segment.bytes"]) == ("70000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    # errors leave the configs alone
    err = error_of(incremental(admin, ResourceType.TOPIC, t, [("retention.ms", "x", AlterConfigOpType.SET)]))
    assert err.code() == KafkaError.INVALID_CONFIG
    err = error_of(incremental(admin, ResourceType.TOPIC, t, [("retention.ms", "5", AlterConfigOpType.APPEND)]))
    assert err.code() == KafkaError.INVALID_CONFIG
    err = error_of(incremental(admin, ResourceType.TOPIC, name("missing"),
                               [("retention.ms", "5", AlterConfigOpType.SET)]))
    assert err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert topic_configs(admin, t)["retention.ms"].value == WEEK_MS


# -- DescribeCluster / Metadata --------------------------------------------------------------------------
def test_describe_cluster_and_metadata(admin, shared_broker):
    meta = dict(line.split("=", 1) for line in (shared_broker.data_dir / "meta.properties").read_text().splitlines()
                if "=" in line and not line.startswith("#"))
    d = admin.describe_cluster(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert d.cluster_id == meta["cluster.id"]
    assert meta["broker.id"] == "0"
    assert d.controller.id == 0
    assert [(n.id, n.host, n.port) for n in d.nodes] == [(0, "127.0.0.1", shared_broker.port)]
    t = name()
    create(admin, t, 3)
    md = admin.list_topics(timeout=TIMEOUT)
    assert md.cluster_id == meta["cluster.id"]
    assert md.controller_id == 0
    assert {i: (b.host, b.port) for i, b in md.brokers.items()} == {0: ("127.0.0.1", shared_broker.port)}
    assert t in md.topics and sorted(md.topics[t].partitions) == [0, 1, 2]
    (desc,) = ok(admin.describe_topics(TopicCollection([t]), request_timeout=TIMEOUT)).values()
    assert desc.name == t and not desc.is_internal
    assert [p.id for p in desc.partitions] == [0, 1, 2]
    assert all(p.leader.id == 0 and [r.id for r in p.replicas] == [0] for p in desc.partitions)
    # librdkafka's metadata request for one topic allows auto-creation, and auto.create.topics.enable is on
    # by default, as in Kafka: the topic appears with num.partitions (1) partitions
    auto = name("auto")
    md = admin.list_topics(topic=auto, timeout=TIMEOUT)
    assert md.topics[auto].error is None and sorted(md.topics[auto].partitions) == [0]
    assert auto in topic_names(admin)


# -- DeleteRecords / ListOffsets -------------------------------------------------------------------------
def test_delete_records_moves_the_low_watermark(admin, shared_broker):
    t = name()
    create(admin, t, 2)
    produce(shared_broker.bootstrap, t, [b"v%d" % i for i in range(10)], linger_ms=5)
    assert watermarks(shared_broker.bootstrap, t) == (0, 10)
    (deleted,) = ok(admin.delete_records([TopicPartition(t, 0, 4)], request_timeout=TIMEOUT)).values()
    assert deleted.low_watermark == 4
    assert watermarks(shared_broker.bootstrap, t) == (4, 10)
    assert list_offset(admin, t, OffsetSpec.earliest())[0] == 4
    # a consumer that starts below the low watermark is reset to it
    c = Consumer({"bootstrap.servers": shared_broker.bootstrap, "group.id": "unused", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    try:
        c.assign([TopicPartition(t, 0, 0)])
        first = None
        deadline = time.monotonic() + TIMEOUT
        while first is None and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                first = m
        assert first is not None and (first.offset(), first.value()) == (4, b"v4")
    finally:
        c.close()
    (future,) = admin.delete_records([TopicPartition(t, 0, 11)]).values()
    assert error_of(future).code() == KafkaError.OFFSET_OUT_OF_RANGE
    assert watermarks(shared_broker.bootstrap, t) == (4, 10)
    (deleted,) = ok(admin.delete_records([TopicPartition(t, 0, -1)])).values()  # -1: up to the high watermark
    assert deleted.low_watermark == 10
    assert watermarks(shared_broker.bootstrap, t) == (10, 10)
    assert watermarks(shared_broker.bootstrap, t, 1) == (0, 0)  # the other partition is untouched
    assert produce(shared_broker.bootstrap, t, [b"after"]) == [10]


@pytest.mark.parametrize(("linger_ms", "compression"), [(0, "none"), (200, "none"), (200, "zstd")],
                         ids=["batch-per-record", "one-batch", "one-zstd-batch"])
def test_list_offsets(admin, shared_broker, linger_ms, compression):
    t = name()
    create(admin, t, 1)
    assert list_offset(admin, t, OffsetSpec.earliest())[0] == 0
    assert list_offset(admin, t, OffsetSpec.latest())[0] == 0
    assert list_offset(admin, t, OffsetSpec.max_timestamp())[0] == -1
    timestamps = [1_000, 2_000, 9_000, 3_000, 4_000, 9_000, 5_000]
    produce(shared_broker.bootstrap, t, [b"v%d" % i for i in range(len(timestamps))], timestamps=timestamps,
            linger_ms=linger_ms, compression=compression)
    assert list_offset(admin, t, OffsetSpec.earliest())[0] == 0
    assert list_offset(admin, t, OffsetSpec.latest())[0] == 7
    # the first record with the largest timestamp, even inside a batch (KIP-734, KAFKA-16310)
    assert list_offset(admin, t, OffsetSpec.max_timestamp()) == (2, 9_000)
    # the first record whose timestamp is >= the target, with that record's timestamp
    assert list_offset(admin, t, OffsetSpec.for_timestamp(0)) == (0, 1_000)
    assert list_offset(admin, t, OffsetSpec.for_timestamp(1_500)) == (1, 2_000)
    assert list_offset(admin, t, OffsetSpec.for_timestamp(2_500)) == (2, 9_000)
    assert list_offset(admin, t, OffsetSpec.for_timestamp(9_000)) == (2, 9_000)
    assert list_offset(admin, t, OffsetSpec.for_timestamp(9_001))[0] == -1
    # records below the log start offset are never an answer, even inside a batch that is partly deleted
    ok(admin.delete_records([TopicPartition(t, 0, 3)]))
    assert list_offset(admin, t, OffsetSpec.for_timestamp(0)) == (3, 3_000)
    assert list_offset(admin, t, OffsetSpec.for_timestamp(4_500)) == (5, 9_000)
    assert list_offset(admin, t, OffsetSpec.earliest())[0] == 3


# -- kafka-python's KafkaAdminClient ---------------------------------------------------------------------
def test_kafka_python_admin(shared_broker):
    from kafka.admin import ConfigResource as KConfigResource
    from kafka.admin import ConfigResourceType, KafkaAdminClient
    from kafka.admin import NewTopic as KNewTopic
    from kafka.errors import InvalidConfigurationError, TopicAlreadyExistsError, UnknownTopicOrPartitionError

    a = KafkaAdminClient(bootstrap_servers=shared_broker.bootstrap, request_timeout_ms=int(TIMEOUT * 1000))
    try:
        t = name("kp")
        created = a.create_topics([KNewTopic(t, 2, 1, topic_configs={"retention.ms": "7777"})])
        (result,) = created["topics"]
        assert (result["name"], result["error_code"], result["num_partitions"]) == (t, 0, 2)
        assert result["configs"]["retention.ms"]["value"] == "7777"
        assert result["configs"]["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
        assert result["configs"]["segment.bytes"]["config_source"] == "DEFAULT_CONFIG"
        with pytest.raises(TopicAlreadyExistsError):
            a.create_topics([KNewTopic(t, 2, 1)])
        with pytest.raises(InvalidConfigurationError):
            a.create_topics([KNewTopic(name("kp"), 1, 1, topic_configs={"retention.ms": "x"})])
        assert t in a.list_topics()

        described = a.describe_configs([KConfigResource(ConfigResourceType.TOPIC, t)], config_filter="all")
        cfg = described["topic"][t]
        assert (cfg["retention.ms"]["value"], cfg["retention.ms"]["config_source"]) == ("7777",
                                                                                      "DYNAMIC_TOPIC_CONFIG")
        assert (cfg["segment.bytes"]["value"], cfg["segment.bytes"]["config_source"]) == ("1073741824",
                                                                                        "DEFAULT_CONFIG")
        modified = a.describe_configs([KConfigResource(ConfigResourceType.TOPIC, t)])["topic"][t]
        assert set(modified) == {"retention.ms"}

        assert a.alter_configs([KConfigResource(ConfigResourceType.TOPIC, t, configs={"retention.ms": "8888"})]) \
            == {"topic": {t: "OK"}}
        cfg = a.describe_configs([KConfigResource(ConfigResourceType.TOPIC, t)], config_filter="all")["topic"][t]
        assert (cfg["retention.ms"]["value"], cfg["retention.ms"]["config_source"]) == ("8888",
                                                                                      "DYNAMIC_TOPIC_CONFIG")

        broker = a.describe_configs([KConfigResource(ConfigResourceType.BROKER, "0")], config_filter="all")
        bcfg = broker["broker"]["0"]
        assert (bcfg["log.dirs"]["value"], bcfg["log.dirs"]["config_source"]) == (str(shared_broker.data_dir),
                                                                                  "STATIC_BROKER_CONFIG")
        assert (bcfg["num.partitions"]["value"], bcfg["num.partitions"]["config_source"]) == ("1",
                                                                                            "DEFAULT_CONFIG")

        a.delete_topics([t])
        assert t not in a.list_topics()
        with pytest.raises(UnknownTopicOrPartitionError):
            a.delete_topics([t])
    finally:
        a.close()


# -- persistence ------------------------------------------------------------------------------------------
def test_admin_changes_survive_restart_and_kill9(broker):
    a = admin_for(broker)
    kept, gone = name("kept"), name("gone")
    ok(a.create_topics([NewTopic(kept, 2, 1, config={"retention.ms": "3600000", "segment.bytes": "100000"}),
                        NewTopic(gone, 1, 1)], operation_timeout=10))
    ok(a.create_partitions([NewPartitions(kept, 4)]))
    incremental(a, ResourceType.TOPIC, kept, [("cleanup.policy", "compact", AlterConfigOpType.APPEND),
                                             ("segment.bytes", None, AlterConfigOpType.DELETE)]).result(TIMEOUT)
    incremental(a, ResourceType.BROKER, "0", [("log.retention.ms", "7200000", AlterConfigOpType.SET)]) \
        .result(TIMEOUT)
    produce(broker.bootstrap, kept, [b"v%d" % i for i in range(6)], partition=3, linger_ms=5)
    ok(a.delete_records([TopicPartition(kept, 3, 2)]))
    ok(a.delete_topics([gone], operation_timeout=10))
    (before,) = ok(a.describe_topics(TopicCollection([kept]))).values()
    cluster_id = a.describe_cluster().result(TIMEOUT).cluster_id
    plain = name("plain")
    create(a, plain)

    def check() -> None:
        b = admin_for(broker)
        names = topic_names(b)
        assert kept in names and gone not in names and plain in names
        (after,) = ok(b.describe_topics(TopicCollection([kept]))).values()
        assert str(after.topic_id) == str(before.topic_id)
        assert [p.id for p in after.partitions] == [0, 1, 2, 3]
        cfg = topic_configs(b, kept)
        assert value_source(cfg["retention.ms"]) == ("3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
        assert value_source(cfg["cleanup.policy"]) == ("delete,compact", ConfigSource.DYNAMIC_TOPIC_CONFIG)
        assert value_source(cfg["segment.bytes"]) == ("1073741824", ConfigSource.DEFAULT_CONFIG)
        assert value_source(broker_configs(b)["log.retention.ms"]) == ("7200000",
                                                                        ConfigSource.DYNAMIC_BROKER_CONFIG)
        assert value_source(topic_configs(b, plain)["retention.ms"]) == ("7200000",
                                                                          ConfigSource.DYNAMIC_BROKER_CONFIG)
        assert watermarks(broker.bootstrap, kept, 3) == (2, 6)
        assert b.describe_cluster().result(TIMEOUT).cluster_id == cluster_id

    check()
    broker.restart()
    check()
    broker.kill9()
    broker.start()
    check()


def test_a_version_1_metadata_file_is_upgraded_at_start(broker_factory, tmp_path):
    """A data dir written before the metadata store (brook-metadata.json version 1, no replica assignments): the
    broker starts from it, serves its topics and configs, and rewrites the file as version 2."""
    topic, topic_id = name("old"), uuid.uuid4()
    data_dir = tmp_path / "v1"
    data_dir.mkdir()
    (data_dir / "brook-metadata.json").write_text(json.dumps({
        "version": 1, "topics": [{"name": topic, "id": str(topic_id), "partitions": 2, "replication_factor": 1,
                                  "configs": {"retention.ms": "3600000"}}],
        "broker_configs": {"log.retention.ms": "7200000"}, "broker_default_configs": {}, "client_quotas": [],
        "scram_credentials": {}, "acls": [], "producer_id_block_end": 1000}))
    b = broker_factory(name="v1")
    a = admin_for(b)
    (desc,) = ok(a.describe_topics(TopicCollection([topic]))).values()
    assert str(desc.topic_id) == base64.b64encode(topic_id.bytes).decode().rstrip("=")  # as librdkafka prints it
    assert [(p.id, [r.id for r in p.replicas], [r.id for r in p.isr]) for p in desc.partitions] == \
        [(0, [0], [0]), (1, [0], [0])]
    assert value_source(topic_configs(a, topic)["retention.ms"]) == ("3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    assert value_source(broker_configs(a)["log.retention.ms"]) == ("7200000", ConfigSource.DYNAMIC_BROKER_CONFIG)
    produce(b.bootstrap, topic, [b"a", b"b"], partition=1)
    assert watermarks(b.bootstrap, topic, 1) == (0, 2)
    data = json.loads((data_dir / "brook-metadata.json").read_text())
    assert data["version"] == 2 and data["topics"][0]["assignment"] == [[0], [0]]
    assert data["broker_configs"] == {"0": {"log.retention.ms": "7200000"}}
