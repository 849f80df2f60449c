"""ACL names, codes, bindings and filters with Kafka's matching rules (org.apache.kafka.common.acl / .resource).

Layer-neutral plain data (no asyncio, no broker internals): the broker's handlers and authorizer, the metadata
store and the kafka-acls tool all take their names and tables from here."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import NamedTuple

WILDCARD = "*"  # ResourcePattern.WILDCARD_RESOURCE and AclEntry.WILDCARD_HOST
WILDCARD_PRINCIPAL = "User:*"
CLUSTER_NAME = "kafka-cluster"
ANONYMOUS = "User:ANONYMOUS"  # the principal without SASL or a client certificate


class ResourceType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class AclOperation(IntEnum):
    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14


class AclPermissionType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


# AclEntry.ACL_OPERATIONS: the operations an ACL may name (AclOperation without UNKNOWN and ANY)
ACL_OPERATIONS = tuple(op for op in AclOperation if op not in (AclOperation.UNKNOWN, AclOperation.ANY))


def from_code(enum: type[IntEnum], code: int) -> IntEnum:
    """Kafka's fromCode: a code it does not know is UNKNOWN."""
    try:
        return enum(code)
    except ValueError:
        return enum(0)


class AclBinding(NamedTuple):
    resource_type: ResourceType
    name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: AclOperation
    permission: AclPermissionType

    @property
    def pattern(self) -> tuple[ResourceType, str, PatternType]:
        return self.resource_type, self.name, self.pattern_type

    def is_unknown(self) -> bool:
        return self.resource_type == ResourceType.UNKNOWN or self.pattern_type == PatternType.UNKNOWN \
            or self.operation == AclOperation.UNKNOWN or self.permission == AclPermissionType.UNKNOWN

    def to_json(self) -> dict[str, object]:
        return {"resource_type": self.resource_type.name, "name": self.name, "pattern_type": self.pattern_type.name,
                "principal": self.principal, "host": self.host, "operation": self.operation.name,
                "permission_type": self.permission.name}

    @classmethod
    def from_json(cls, d: Mapping[str, str]) -> AclBinding:
        return cls(ResourceType[d["resource_type"]], d["name"], PatternType[d["pattern_type"]], d["principal"],
                   d["host"], AclOperation[d["operation"]], AclPermissionType[d["permission_type"]])


class AclBindingFilter(NamedTuple):
    """None for name / principal / host matches anything (Kafka's null)."""
    resource_type: ResourceType
    name: str | None
    pattern_type: PatternType
    principal: str | None
    host: str | None
    operation: AclOperation
    permission: AclPermissionType

    def is_unknown(self) -> bool:
        return self.resource_type == ResourceType.UNKNOWN or self.pattern_type == PatternType.UNKNOWN \
            or self.operation == AclOperation.UNKNOWN or self.permission == AclPermissionType.UNKNOWN

    def matches_pattern(self, rtype: ResourceType, name: str, ptype: PatternType) -> bool:
        """ResourcePatternFilter.matches: MATCH selects the literal, wildcard and prefixed patterns a name hits."""
        if self.resource_type != ResourceType.ANY and self.resource_type != rtype:
            return False
        if self.pattern_type not in (PatternType.ANY, PatternType.MATCH) and self.pattern_type != ptype:
            return False
        if self.name is None:
            return True
        if self.pattern_type in (PatternType.ANY, ptype):
            return self.name == name
        if ptype == PatternType.LITERAL:
            return self.name == name or name == WILDCARD
        return self.name.startswith(name)  # PREFIXED

    def matches_entry(self, b: AclBinding) -> bool:
        """AccessControlEntryFilter.matches."""
        return (self.principal is None or self.principal == b.principal) \
            and (self.host is None or self.host == b.host) \
            and (self.operation == AclOperation.ANY or self.operation == b.operation) \
            and (self.permission == AclPermissionType.ANY or self.permission == b.permission)

    def matches(self, b: AclBinding) -> bool:
        return self.matches_pattern(b.resource_type, b.name, b.pattern_type) and self.matches_entry(b)


def parse_principal(principal: str) -> tuple[str, str]:
    """SecurityUtils.parseKafkaPrincipal: "Type:name"; raises ValueError with Kafka's message."""
    kind, sep, name = principal.partition(":")
    if not principal or not sep:
        raise ValueError(f"expected a string in format principalType:principalName but got {principal}")
    return kind, name


# AclEntry.supportedOperations: what each resource type's authorized-operations bitfield can hold
SUPPORTED_OPERATIONS: dict[ResourceType, tuple[AclOperation, ...]] = {
    ResourceType.TOPIC: (AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE,
                         AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS,
                         AclOperation.ALTER_CONFIGS),
    ResourceType.GROUP: (AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE),
    ResourceType.CLUSTER: (AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
                           AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER,
                           AclOperation.DESCRIBE),
    ResourceType.TRANSACTIONAL_ID: (AclOperation.DESCRIBE, AclOperation.WRITE),
    ResourceType.DELEGATION_TOKEN: (AclOperation.DESCRIBE,),
    ResourceType.USER: (AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS),
}


def bitfield(operations: list[AclOperation]) -> int:
    """Utils.to32BitField as a signed int32."""
    value = 0
    for op in operations:
        value |= 1 << int(op)
    return value - (1 << 32) if value >= 1 << 31 else value
