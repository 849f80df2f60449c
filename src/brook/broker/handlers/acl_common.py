"""Shared by CreateAcls, DescribeAcls, DeleteAcls: request fields -> bindings / filters, Kafka's checks."""

from __future__ import annotations

from brook.acl import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
    from_code,
)

NO_AUTHORIZER = "No Authorizer is configured."  # SecurityDisabledException's message in AclApis


def binding(c) -> AclBinding:
    return AclBinding(from_code(ResourceType, c.resource_type), c.resource_name,  # type: ignore[arg-type]
                      from_code(PatternType, c.resource_pattern_type), c.principal, c.host,  # type: ignore[arg-type]
                      from_code(AclOperation, c.operation), from_code(AclPermissionType, c.permission_type))  # type: ignore[arg-type]


def binding_error(b: AclBinding) -> str | None:
    """Kafka's ResourcePattern / AccessControlEntry constructors refuse ANY and MATCH in a binding (Kafka fails the
    whole request then; Brook refuses the one binding with INVALID_REQUEST and the same message)."""
    if b.resource_type == ResourceType.ANY:
        return "resourceType must not be ANY"
    if b.pattern_type in (PatternType.ANY, PatternType.MATCH):
        return f"patternType must not be {b.pattern_type.name}"
    if b.operation == AclOperation.ANY:
        return "operation must not be ANY"
    if b.permission == AclPermissionType.ANY:
        return "permissionType must not be ANY"
    return None


def binding_filter(f) -> AclBindingFilter:
    return AclBindingFilter(from_code(ResourceType, f.resource_type_filter), f.resource_name_filter,  # type: ignore[arg-type]
                            from_code(PatternType, f.pattern_type_filter), f.principal_filter,  # type: ignore[arg-type]
                            f.host_filter, from_code(AclOperation, f.operation),  # type: ignore[arg-type]
                            from_code(AclPermissionType, f.permission_type))  # type: ignore[arg-type]


