"""DescribeClientQuotas (48), AlterClientQuotas (49), DescribeUserScramCredentials (50) and
AlterUserScramCredentials (51) on the wire (kio messages), with the checks and messages of Kafka 3.9's
core/src/main/scala/kafka/server/ZkAdminManager.scala; and the cluster-wide broker default config resource ""."""

from __future__ import annotations

import hashlib
import os

from kafka_wire import Conn
from kio.schema.alter_client_quotas.v1 import request as acq_req
from kio.schema.alter_client_quotas.v1 import response as acq_resp
from kio.schema.alter_configs.v2 import request as ac_req
from kio.schema.alter_configs.v2 import response as ac_resp
from kio.schema.alter_user_scram_credentials.v0 import request as aus_req
from kio.schema.alter_user_scram_credentials.v0 import response as aus_resp
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.api_versions.v3.response import ApiVersionsResponse
from kio.schema.describe_client_quotas.v1 import request as dcq_req
from kio.schema.describe_client_quotas.v1 import response as dcq_resp
from kio.schema.describe_configs.v4 import request as dc_req
from kio.schema.describe_configs.v4 import response as dc_resp
from kio.schema.describe_user_scram_credentials.v0 import request as dus_req
from kio.schema.describe_user_scram_credentials.v0 import response as dus_resp
from kio.schema.errors import ErrorCode

EXACT, DEFAULT, ANY = 0, 1, 2
SHA256, SHA512 = 1, 2


def alter_quotas(conn: Conn, *entries: tuple[dict, list], validate_only: bool = False) -> list[tuple]:
    body = acq_req.AlterClientQuotasRequest(validate_only=validate_only, entries=tuple(
        acq_req.EntryData(entity=tuple(acq_req.EntityData(entity_type=t, entity_name=n) for t, n in entity.items()),
                          ops=tuple(acq_req.OpData(key=k, value=v or 0.0, remove=v is None) for k, v in ops))
        for entity, ops in entries))
    response = conn.request(body, acq_resp.AlterClientQuotasResponse)
    return [(e.error_code, e.error_message) for e in response.entries]


def describe_quotas(conn: Conn, components: list[tuple], strict: bool = False):  # type: ignore[no-untyped-def]
    body = dcq_req.DescribeClientQuotasRequest(strict=strict, components=tuple(
        dcq_req.ComponentData(entity_type=t, match_type=m, match=n) for t, m, n in components))
    response = conn.request(body, dcq_resp.DescribeClientQuotasResponse)
    if response.error_code != ErrorCode.none:
        return response.error_code, response.error_message
    return sorted((tuple(sorted((e.entity_type, e.entity_name or "<default>") for e in entry.entity)),
                   {v.key: v.value for v in entry.values}) for entry in response.entries)


def test_advertised_from_kip_896_floor(broker) -> None:
    with Conn(broker.port) as conn:
        response = conn.request(ApiVersionsRequest(client_software_name="t", client_software_version="1"),
                                ApiVersionsResponse)
    versions = {int(k.api_key): (int(k.min_version), int(k.max_version)) for k in response.api_keys}
    assert {k: versions[k] for k in (48, 49, 50, 51)} == {48: (0, 1), 49: (0, 1), 50: (0, 0), 51: (0, 0)}


def test_client_quotas_filters_validation_and_restart(broker) -> None:
    with Conn(broker.port) as conn:
        assert alter_quotas(conn,
                            ({"user": "alice"}, [("producer_byte_rate", 1024.0), ("request_percentage", 12.5)]),
                            ({"user": None}, [("consumer_byte_rate", 10.0)]),
                            ({"user": "alice", "client-id": "app"}, [("producer_byte_rate", 5.0)]),
                            ({"client-id": "app"}, [("consumer_byte_rate", 7.0)]),
                            ({"ip": "127.0.0.1"}, [("connection_creation_rate", 3.0)])) == [(0, None)] * 5
        assert alter_quotas(conn, ({"user": "carol"}, [("producer_byte_rate", 1.0)]), validate_only=True) == \
            [(0, None)]
        errors = alter_quotas(
            conn,
            ({"user": "alice"}, [("bogus_rate", 1.0)]),
            ({"user": "alice"}, [("producer_byte_rate", 1.5)]),
            ({"ip": "1.2.3.4", "user": "alice"}, [("connection_creation_rate", 1.0)]),
            ({}, [("producer_byte_rate", 1.0)]),
            ({"user": ""}, [("producer_byte_rate", 1.0)]),
            ({"group": "g"}, [("producer_byte_rate", 1.0)]),
            ({"ip": "not an ip"}, [("connection_creation_rate", 1.0)]),
            ({"ip": "1.2.3.4"}, [("producer_byte_rate", 1.0)]),
        )
        assert errors == [
            (ErrorCode.invalid_request, "Invalid configuration key bogus_rate"),
            (ErrorCode.invalid_request, "Configuration producer_byte_rate must be a LONG value"),
            (ErrorCode.invalid_request, "Invalid quota entity combination, IP entity should not be used with "
                                        "user/client ID entity."),
            (ErrorCode.invalid_request, "Invalid empty client quota entity"),
            (ErrorCode.invalid_request, "Empty user not supported"),
            (ErrorCode.invalid_request, "Unhandled client quota entity type: group"),
            (ErrorCode.invalid_request, "not an ip is not a valid IP or resolvable host."),
            (ErrorCode.invalid_request, "Invalid configuration key producer_byte_rate"),
        ]
        alice = ((("user", "alice"),), {"producer_byte_rate": 1024.0, "request_percentage": 12.5})
        alice_app = ((("client-id", "app"), ("user", "alice")), {"producer_byte_rate": 5.0})
        app = ((("client-id", "app"),), {"consumer_byte_rate": 7.0})
        default_user = ((("user", "<default>"),), {"consumer_byte_rate": 10.0})
        ip = ((("ip", "127.0.0.1"),), {"connection_creation_rate": 3.0})
        cases = {  # (components, strict) -> entities
            ((), False): [alice_app, app, ip, alice, default_user],
            ((), True): [],
            ((("user", EXACT, "alice"),), True): [alice],
            ((("user", EXACT, "alice"),), False): [alice_app, alice],
            ((("user", DEFAULT, None),), True): [default_user],
            ((("user", ANY, None),), True): [alice, default_user],
            ((("user", ANY, None), ("client-id", ANY, None)), True): [alice_app],
            ((("client-id", EXACT, "app"),), False): [alice_app, app],
            ((("ip", ANY, None),), True): [ip],
        }
        for (components, strict), expected in cases.items():
            assert describe_quotas(conn, list(components), strict) == sorted(expected), components
        assert describe_quotas(conn, [("user", ANY, None), ("ip", ANY, None)]) == (
            ErrorCode.invalid_request, "Invalid entity filter component combination, IP filter component should "
                                       "not be used with user or clientId filter component.")
        assert describe_quotas(conn, [("user", ANY, None), ("user", ANY, None)]) == (
            ErrorCode.invalid_request, "Duplicate user filter component entity type")
        assert describe_quotas(conn, [("group", ANY, None)]) == (
            ErrorCode.unsupported_version, "Custom entity type 'group' not supported")
        # removing a key (even one never set) is not an error; an entity without values is no longer listed
        assert alter_quotas(conn, ({"client-id": "app"}, [("consumer_byte_rate", None), ("bogus", None)])) == \
            [(0, None)]
    broker.restart()
    with Conn(broker.port) as conn:
        assert describe_quotas(conn, []) == sorted([alice_app, ip, alice, default_user])


def scram_upsertion(name: str, mechanism: int, iterations: int) -> aus_req.ScramCredentialUpsertion:
    salt = os.urandom(16)
    digest = "sha256" if mechanism == SHA256 else "sha512"
    return aus_req.ScramCredentialUpsertion(name=name, mechanism=mechanism, iterations=iterations, salt=salt,
                                            salted_password=hashlib.pbkdf2_hmac(digest, b"pw", salt, iterations))


def alter_scram(conn: Conn, upsertions: list, deletions: list[tuple[str, int]]) -> list[tuple]:
    body = aus_req.AlterUserScramCredentialsRequest(upsertions=tuple(upsertions), deletions=tuple(
        aus_req.ScramCredentialDeletion(name=n, mechanism=m) for n, m in deletions))
    return [(r.user, r.error_code, r.error_message)
            for r in conn.request(body, aus_resp.AlterUserScramCredentialsResponse).results]


def describe_scram(conn: Conn, users: list[str] | None) -> list[tuple]:
    body = dus_req.DescribeUserScramCredentialsRequest(
        users=None if users is None else tuple(dus_req.UserName(name=u) for u in users))
    response = conn.request(body, dus_resp.DescribeUserScramCredentialsResponse)
    return [(r.user, r.error_code, r.error_message, [(c.mechanism, c.iterations) for c in r.credential_infos])
            for r in response.results]


def test_scram_credentials_checks_and_restart(broker) -> None:
    with Conn(broker.port) as conn:
        assert alter_scram(conn, [scram_upsertion("alice", SHA256, 8192), scram_upsertion("alice", SHA512, 4096),
                                  scram_upsertion("bob", SHA512, 4096)], []) == \
            [("alice", 0, None), ("bob", 0, None)]
        assert alter_scram(conn, [scram_upsertion("u1", SHA256, 4095), scram_upsertion("u2", SHA256, 16385),
                                  scram_upsertion("u3", 7, 4096), scram_upsertion("", SHA256, 4096),
                                  scram_upsertion("u4", SHA256, 4096), scram_upsertion("u4", SHA256, 5000)],
                           [("bob", SHA256)]) == [
            ("u1", ErrorCode.unacceptable_credential, "Too few iterations"),
            ("u2", ErrorCode.unacceptable_credential, "Too many iterations"),
            ("u3", ErrorCode.unsupported_sasl_mechanism, "Unknown SCRAM mechanism"),
            ("", ErrorCode.unacceptable_credential, "Username must not be empty"),
            ("u4", ErrorCode.duplicate_resource, "A user credential cannot be altered twice in the same request"),
            ("bob", ErrorCode.resource_not_found, "Attempt to delete a user credential that does not exist"),
        ]
        assert describe_scram(conn, ["alice", "nobody", "", "bob", "bob"]) == [
            ("alice", 0, None, [(SHA256, 8192), (SHA512, 4096)]),
            ("nobody", ErrorCode.resource_not_found, "Attempt to describe a user credential that does not exist: "
                                                     "nobody", []),
            ("", ErrorCode.resource_not_found, "Username must not be empty", []),
            ("bob", ErrorCode.duplicate_resource, "Cannot describe SCRAM credentials for the same user twice in a "
                                                  "single request: bob", []),
        ]
        assert alter_scram(conn, [], [("alice", SHA512)]) == [("alice", 0, None)]
    broker.restart()
    with Conn(broker.port) as conn:
        assert describe_scram(conn, None) == [("alice", 0, None, [(SHA256, 8192)]), ("bob", 0, None, [(SHA512, 4096)])]
        assert describe_scram(conn, []) == describe_scram(conn, None)
    # Kafka's stored form (ScramFormatter): salt, stored key, server key, iterations; never the password
    text = (broker.data_dir / "brook-metadata.json").read_text()
    assert '"stored_key"' in text and '"server_key"' in text and "salted_password" not in text


def describe_broker(conn: Conn, name: str) -> dict[str, tuple]:
    body = dc_req.DescribeConfigsRequest(include_synonyms=True, include_documentation=False, resources=(
        dc_req.DescribeConfigsResource(resource_type=4, resource_name=name, configuration_keys=None),))
    (result,) = conn.request(body, dc_resp.DescribeConfigsResponse).results
    return {c.name: (c.value, c.config_source, [(s.name, s.value, s.source) for s in c.synonyms])
            for c in result.configs}


def test_broker_default_resource(broker_factory) -> None:
    broker = broker_factory({"num.partitions": "2"})
    with Conn(broker.port) as conn:
        body = ac_req.AlterConfigsRequest(validate_only=False, resources=(ac_req.AlterConfigsResource(
            resource_type=4, resource_name="", configs=(ac_req.AlterableConfig(name="num.partitions", value="5"),
                                                        ac_req.AlterableConfig(name="log.segment.bytes",
                                                                               value="50000"))),))
        (result,) = conn.request(body, ac_resp.AlterConfigsResponse).responses
        assert (result.error_code, result.resource_name) == (0, "")
        assert describe_broker(conn, "") == {  # the dynamic defaults alone (ConfigHelper.describeConfigs)
            "log.segment.bytes": ("50000", 3, [("log.segment.bytes", "50000", 3)]),
            "num.partitions": ("5", 3, [("num.partitions", "5", 3)]),
        }
        # per broker: the default outranks server.properties, Kafka's default comes last
        assert describe_broker(conn, "0")["num.partitions"] == ("5", 3, [("num.partitions", "5", 3),
                                                                         ("num.partitions", "2", 4),
                                                                         ("num.partitions", "1", 5)])
    broker.restart()
    with Conn(broker.port) as conn:
        assert describe_broker(conn, "0")["num.partitions"][:2] == ("5", 3)
        assert describe_broker(conn, "0")["log.segment.bytes"][:2] == ("50000", 3)
