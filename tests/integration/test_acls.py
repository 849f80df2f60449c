"""ACLs and the authorizer through real clients: CreateAcls / DescribeAcls / DeleteAcls (Kafka 3.9's
core/src/main/scala/kafka/server/AclApis.scala) with confluent-kafka's AdminClient, and enforcement
(KafkaApis) seen by confluent-kafka and kafka-python. Every client is User:ANONYMOUS (PLAINTEXT)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from kafka_wire import Conn
from kio.schema.create_acls.v3 import request as ca_req
from kio.schema.create_acls.v3 import response as ca_resp
from kio.schema.describe_acls.v3.request import DescribeAclsRequest
from kio.schema.describe_acls.v3.response import DescribeAclsResponse
from kio.schema.errors import ErrorCode
from kio.static.primitive import i8

TIMEOUT = 15
ACL_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
ANON = "User:ANONYMOUS"
ANY = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                       AclPermissionType.ANY)


def binding(rtype: ResourceType, name: str, op: AclOperation, principal: str = ANON,
            perm: AclPermissionType = AclPermissionType.ALLOW,
            ptype: ResourcePatternType = ResourcePatternType.LITERAL, host: str = "*") -> AclBinding:
    return AclBinding(rtype, name, ptype, principal, host, op, perm)


def create(admin: AdminClient, *bindings: AclBinding) -> list[str | None]:
    """Per binding: None, or the broker's error name and message."""
    out = []
    for _, fut in admin.create_acls(list(bindings), request_timeout=TIMEOUT).items():
        try:
            fut.result()
            out.append(None)
        except KafkaException as e:
            out.append(f"{e.args[0].name()}: {e.args[0].str()}")
    return out


def describe(admin: AdminClient, flt: AclBindingFilter = ANY) -> set[tuple]:
    return {key(b) for b in admin.describe_acls(flt, request_timeout=TIMEOUT).result()}


def key(b: AclBinding) -> tuple:
    return b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation, b.permission_type


def first_error(consumer: Consumer) -> KafkaError | None:
    """The first error a consumer's poll reports within TIMEOUT (None if none does)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error():
            return msg.error()
    return None


def test_security_disabled_without_authorizer(broker) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    b = binding(ResourceType.TOPIC, "t", AclOperation.READ)
    with pytest.raises(KafkaException) as e:
        admin.create_acls([b])[b].result()
    assert e.value.args[0].code() == KafkaError.SECURITY_DISABLED
    assert "No Authorizer is configured." in e.value.args[0].str()
    # librdkafka drops DescribeAcls' error code (an empty listing), so this one goes over the wire with kio
    with Conn(broker.port) as conn:
        response = conn.request(DescribeAclsRequest(
            resource_type_filter=i8(1), resource_name_filter=None, pattern_type_filter=i8(1), principal_filter=None,
            host_filter=None, operation=i8(1), permission_type=i8(1)), DescribeAclsResponse)
    assert (response.error_code, response.error_message) == (ErrorCode.security_disabled,
                                                             "No Authorizer is configured on the broker")
    with pytest.raises(KafkaException) as e:
        admin.delete_acls([ANY])[ANY].result()
    assert e.value.args[0].code() == KafkaError.SECURITY_DISABLED


def test_create_describe_delete_and_restart(broker_factory) -> None:
    b = broker_factory({"authorizer.class.name": ACL_AUTHORIZER, "super.users": ANON})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    read_t = binding(ResourceType.TOPIC, "t", AclOperation.READ, "User:alice")
    write_pre = binding(ResourceType.TOPIC, "app-", AclOperation.WRITE, "User:bob",
                        ptype=ResourcePatternType.PREFIXED, host="10.0.0.1")
    deny_all = binding(ResourceType.TOPIC, "*", AclOperation.ALL, "User:mallory", AclPermissionType.DENY)
    group = binding(ResourceType.GROUP, "g", AclOperation.READ, "User:alice")
    cluster = binding(ResourceType.BROKER, "kafka-cluster", AclOperation.ALTER, "User:alice")
    assert create(admin, read_t, write_pre, deny_all, group, cluster) == [None] * 5
    # AclApis.handleCreateAcls and AclAuthorizer.validateAclBinding refusals
    assert create(admin, binding(ResourceType.BROKER, "other", AclOperation.ALTER),
                  binding(ResourceType.TOPIC, "a/b", AclOperation.READ),
                  binding(ResourceType.TOPIC, "t", AclOperation.READ, "alice")) == [
        "INVALID_REQUEST: The only valid name for the CLUSTER resource is kafka-cluster",
        "INVALID_REQUEST: Failed to create ACL",
        "INVALID_REQUEST: Could not parse principal from `alice` (no colon is present separating the principal "
        "type from the principal name)"]
    everything = {key(x) for x in (read_t, write_pre, deny_all, group, cluster)}
    assert describe(admin) == everything
    # MATCH: the literal, wildcard and prefixed patterns that apply to one name
    match = AclBindingFilter(ResourceType.TOPIC, "app-1", ResourcePatternType.MATCH, None, None, AclOperation.ANY,
                             AclPermissionType.ANY)
    assert describe(admin, match) == {key(write_pre), key(deny_all)}
    by_principal = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:alice", None,
                                    AclOperation.ANY, AclPermissionType.ANY)
    assert describe(admin, by_principal) == {key(read_t), key(group), key(cluster)}

    b.restart()  # ACLs live in brook-metadata.json
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    assert describe(admin) == everything
    deleted = admin.delete_acls([by_principal], request_timeout=TIMEOUT)[by_principal].result()
    assert {key(x) for x in deleted} == {key(read_t), key(group), key(cluster)}
    assert describe(admin) == {key(write_pre), key(deny_all)}
    b.restart()
    assert describe(AdminClient({"bootstrap.servers": b.bootstrap})) == {key(write_pre), key(deny_all)}


def _produce(bootstrap: str, topic: str) -> KafkaError | None:
    p = Producer({"bootstrap.servers": bootstrap, "message.timeout.ms": 10000, "retries": 0})
    errors: list = []
    p.produce(topic, b"v", key=b"k", on_delivery=lambda err, _msg: errors.append(err))
    p.flush(TIMEOUT)
    assert len(errors) == 1
    return errors[0]


def _kafka_python_consume(bootstrap: str, topic: str) -> list[bytes]:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        c.assign([KTopicPartition(topic, 0)])
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            records = c.poll(timeout_ms=500)
            if records:
                return [r.value for rs in records.values() for r in rs]
        return []
    finally:
        c.close()


def test_denied_then_allowed(broker_factory) -> None:
    # bootstrap as super user: the topic and the cluster ACLs ANONYMOUS needs to manage ACLs afterwards
    b = broker_factory({"authorizer.class.name": ACL_AUTHORIZER, "super.users": ANON,
                        "auto.create.topics.enable": "false"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic("t", 1, 1)])["t"].result(TIMEOUT)
    assert create(admin, binding(ResourceType.BROKER, "kafka-cluster", AclOperation.ALTER),
                  binding(ResourceType.BROKER, "kafka-cluster", AclOperation.DESCRIBE)) == [None, None]
    b.overrides["super.users"] = "User:admin"
    b.restart()
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    # the topic is hidden from listing, producing fails with TOPIC_AUTHORIZATION_FAILED
    assert "t" not in admin.list_topics(timeout=TIMEOUT).topics
    assert _produce(b.bootstrap, "t").code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert create(admin, binding(ResourceType.TOPIC, "t", AclOperation.WRITE)) == [None]
    assert _produce(b.bootstrap, "t") is None
    assert "t" in admin.list_topics(timeout=TIMEOUT).topics  # WRITE implies DESCRIBE

    assert create(admin, binding(ResourceType.GROUP, "g", AclOperation.READ)) == [None]  # else the group fails
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "g", "auto.offset.reset": "earliest"})
    try:
        c.assign([TopicPartition("t", 0, 0)])
        error = first_error(c)
        assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    finally:
        c.close()
    from kafka.errors import TopicAuthorizationFailedError

    with pytest.raises(TopicAuthorizationFailedError):
        _kafka_python_consume(b.bootstrap, "t")
    assert create(admin, binding(ResourceType.TOPIC, "t", AclOperation.READ)) == [None]
    assert _kafka_python_consume(b.bootstrap, "t") == [b"v"]


def test_super_user_anonymous_allows_everything(broker_factory) -> None:
    b = broker_factory({"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                        "super.users": f"User:admin;{ANON}", "allow.everyone.if.no.acl.found": "false"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    # a DENY for everyone does not apply to a super user
    assert create(admin, binding(ResourceType.TOPIC, "*", AclOperation.ALL, "User:*",
                                 AclPermissionType.DENY)) == [None]
    admin.create_topics([NewTopic("s", 1, 1)])["s"].result(TIMEOUT)
    assert _produce(b.bootstrap, "s") is None
    assert _kafka_python_consume(b.bootstrap, "s") == [b"v"]
    described = admin.describe_cluster(include_authorized_operations=True).result(TIMEOUT)
    assert set(described.authorized_operations) == {
        AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS,
        AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE}


def test_authorized_operations_and_allow_everyone(broker_factory) -> None:
    b = broker_factory({"authorizer.class.name": ACL_AUTHORIZER, "allow.everyone.if.no.acl.found": "true"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic("r", 1, 1)])["r"].result(TIMEOUT)
    assert create(admin, binding(ResourceType.TOPIC, "r", AclOperation.READ)) == [None]
    from confluent_kafka import TopicCollection

    (desc,) = admin.describe_topics(TopicCollection(["r"]), include_authorized_operations=True).values()
    assert set(desc.result(TIMEOUT).authorized_operations) == {AclOperation.READ, AclOperation.DESCRIBE}
    assert _produce(b.bootstrap, "r").code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_unknown_authorizer_class_refused(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-m", "brook", "--override", f"log.dirs={tmp_path}", "--override",
                          "authorizer.class.name=com.example.MyAuthorizer"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1
    assert out.stderr == ("Error: Invalid value com.example.MyAuthorizer for configuration authorizer.class.name: "
                          "Brook supports only kafka.security.authorizer.AclAuthorizer and "
                          "org.apache.kafka.metadata.authorizer.StandardAuthorizer\n")


def test_group_transaction_and_config_checks(broker_factory) -> None:
    b = broker_factory({"authorizer.class.name": ACL_AUTHORIZER, "super.users": ANON})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic("c", 1, 1)])["c"].result(TIMEOUT)
    assert create(admin, *(binding(ResourceType.BROKER, "kafka-cluster", op)
                           for op in (AclOperation.ALTER, AclOperation.DESCRIBE)),
                  binding(ResourceType.TOPIC, "c", AclOperation.WRITE)) == [None] * 3
    b.overrides["super.users"] = "User:admin"
    b.restart()
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    from confluent_kafka.admin import ConfigResource

    # DescribeConfigs needs DESCRIBE_CONFIGS (implied by ALTER_CONFIGS), else TOPIC_AUTHORIZATION_FAILED
    resource = ConfigResource(ConfigResource.Type.TOPIC, "c")
    with pytest.raises(KafkaException) as e:
        admin.describe_configs([resource])[resource].result(TIMEOUT)
    assert e.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert create(admin, binding(ResourceType.TOPIC, "c", AclOperation.ALTER_CONFIGS)) == [None]
    assert admin.describe_configs([resource])[resource].result(TIMEOUT)["retention.ms"].value

    # a transactional producer needs WRITE on its transactional id
    p = Producer({"bootstrap.servers": b.bootstrap, "transactional.id": "tx-1"})
    with pytest.raises(KafkaException) as e:
        p.init_transactions(TIMEOUT)
    assert e.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    assert create(admin, binding(ResourceType.TRANSACTIONAL_ID, "tx-", AclOperation.WRITE,
                                 ptype=ResourcePatternType.PREFIXED)) == [None]
    p = Producer({"bootstrap.servers": b.bootstrap, "transactional.id": "tx-1"})
    p.init_transactions(TIMEOUT)
    p.begin_transaction()
    p.produce("c", b"txn")
    p.commit_transaction(TIMEOUT)

    # a consumer group needs READ on the group
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "cg", "auto.offset.reset": "earliest"})
    try:
        c.subscribe(["c"])
        error = first_error(c)
        assert error is not None and error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED
    finally:
        c.close()


def _creation(rtype: int, name: str, ptype: int = 3, principal: str = ANON, op: int = 3, perm: int = 3):
    return ca_req.AclCreation(resource_type=i8(rtype), resource_name=name, resource_pattern_type=i8(ptype),
                              principal=principal, host="*", operation=i8(op), permission_type=i8(perm))


def test_create_acls_checks_on_the_wire(broker_factory) -> None:
    """What confluent-kafka cannot send: AclApis.handleCreateAcls' checks, the ResourcePattern / AccessControlEntry
    refusals, and CLUSTER_AUTHORIZATION_FAILED for a principal without ALTER on the cluster."""
    b = broker_factory({"authorizer.class.name": ACL_AUTHORIZER, "super.users": ANON})
    with Conn(b.port) as conn:
        response = conn.request(ca_req.CreateAclsRequest(creations=(
            _creation(2, ""), _creation(2, "t", ptype=2), _creation(2, "t", ptype=1), _creation(1, "t"),
            _creation(2, "t", op=1), _creation(2, "t", perm=1), _creation(2, "t", op=99), _creation(2, "ok"))),
            ca_resp.CreateAclsResponse)
    assert [(r.error_code, r.error_message) for r in response.results] == [
        (ErrorCode.invalid_request, "Invalid empty resource name"),
        (ErrorCode.invalid_request, "patternType must not be MATCH"),
        (ErrorCode.invalid_request, "patternType must not be ANY"),
        (ErrorCode.invalid_request, "resourceType must not be ANY"),
        (ErrorCode.invalid_request, "operation must not be ANY"),
        (ErrorCode.invalid_request, "permissionType must not be ANY"),
        (ErrorCode.invalid_request, "Failed to create ACL"),  # an unknown operation code is UNKNOWN
        (ErrorCode.none, None)]
    b.overrides["super.users"] = "User:admin"
    b.restart()
    with Conn(b.port) as conn:
        response = conn.request(ca_req.CreateAclsRequest(creations=(_creation(2, "x"),)), ca_resp.CreateAclsResponse)
    assert [(r.error_code, r.error_message) for r in response.results] == [
        (ErrorCode.cluster_authorization_failed, None)]
