"""kafka-acls' calls: confluent-kafka's create_acls / describe_acls / delete_acls with AclCommand's bindings and
filters. librdkafka names the CLUSTER resource type BROKER and has no DELEGATION_TOKEN or USER resource type, nor
the CREATE_TOKENS / DESCRIBE_TOKENS operations."""

from __future__ import annotations

from typing import Any

from brook.cli.clients import ToolError, error_for_code, from_kafka

Pattern = tuple[str, str, str]
Entry = tuple[str, str, str, str]
_RDKAFKA_TYPES = {"CLUSTER": "BROKER"}


def _enums() -> Any:
    from confluent_kafka import admin

    return admin


def _resource_type(name: str) -> Any:
    admin = _enums()
    rd = _RDKAFKA_TYPES.get(name, name)
    if rd not in admin.ResourceType.__members__:
        raise ToolError("org.apache.kafka.common.errors.UnsupportedVersionException",
                        f"confluent-kafka (librdkafka) has no {name} resource type")
    return admin.ResourceType[rd]


def _operation(name: str) -> Any:
    admin = _enums()
    if name not in admin.AclOperation.__members__:
        raise ToolError("org.apache.kafka.common.errors.UnsupportedVersionException",
                        f"confluent-kafka (librdkafka) has no {name} operation")
    return admin.AclOperation[name]


def _binding_filter(p: Pattern, e: Entry | None) -> Any:
    admin = _enums()
    principal, host, op, perm = e if e is not None else (None, None, "ANY", "ANY")
    return admin.AclBindingFilter(_resource_type(p[0]), p[1], admin.ResourcePatternType[p[2]], principal, host,
                                  _operation(op), admin.AclPermissionType[perm])


def _wait(futures: dict, timeout: float) -> list:
    out = []
    for fut in futures.values():
        try:
            out.append(fut.result(timeout))
        except Exception as e:  # noqa: BLE001 - a KafkaException or a timeout, as the Java exception
            raise from_kafka(e) from None
    return out


def create(admin: Any, resource: Pattern, acls: list[Entry], timeout: float) -> None:
    enums = _enums()
    bindings = [enums.AclBinding(_resource_type(resource[0]), resource[1], enums.ResourcePatternType[resource[2]],
                                 e[0], e[1], _operation(e[2]), enums.AclPermissionType[e[3]]) for e in acls]
    _wait(admin.create_acls(bindings, request_timeout=timeout), timeout)


def delete(admin: Any, flt: Pattern, acls: list[Entry], timeout: float) -> None:
    filters = [_binding_filter(flt, None)] if not acls else [_binding_filter(flt, e) for e in acls]
    _wait(admin.delete_acls(filters, request_timeout=timeout), timeout)


def _pattern(b: Any) -> Pattern:
    rtype = {v: k for k, v in _RDKAFKA_TYPES.items()}.get(b.restype.name, b.restype.name)
    return rtype, b.name, b.resource_pattern_type.name


def describe(admin: Any, filters: list[Pattern], timeout: float, bootstrap: str) -> dict[Pattern, list[Entry]]:
    """AdminClientService.getAcls: ACLs per resource pattern, every filter's answers together."""
    enums = _enums()
    any_filter = enums.AclBindingFilter(enums.ResourceType.ANY, None, enums.ResourcePatternType.ANY, None, None,
                                        enums.AclOperation.ANY, enums.AclPermissionType.ANY)
    wanted = [_binding_filter(f, None) for f in filters] or [any_filter]
    bindings = []
    for flt in wanted:
        try:
            bindings += admin.describe_acls(flt, request_timeout=timeout).result(timeout)
        except Exception as e:  # noqa: BLE001
            raise from_kafka(e) from None
    if not bindings:
        _raise_describe_error(bootstrap, timeout)
    out: dict[Pattern, list[Entry]] = {}
    for b in bindings:
        entry = (b.principal, b.host, b.operation.name, b.permission_type.name)
        acls = out.setdefault(_pattern(b), [])
        if entry not in acls:
            acls.append(entry)
    return out


def _raise_describe_error(bootstrap: str, timeout: float) -> None:
    """An empty listing from librdkafka may hide an error: ask one bootstrap broker with kio."""
    import time

    from kio.static.primitive import i8

    from brook.cli.kafka_rpc import call_highest, connect

    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    with connect(host.strip("[]"), int(port), time.monotonic() + timeout, "describeAcls") as conn:
        response = call_highest(conn, "describe_acls", range(1, 4), lambda m: m.DescribeAclsRequest(
            resource_type_filter=i8(1), resource_name_filter=None, pattern_type_filter=i8(1), principal_filter=None,
            host_filter=None, operation=i8(1), permission_type=i8(1)), "describeAcls")
    if response.error_code:
        raise error_for_code(int(response.error_code), response.error_message or "")
