"""The broker's import point for ACL types: they live in the layer-neutral `brook.acl` (shared with kafka-acls)."""

from brook.acl import (
    ACL_OPERATIONS,
    ANONYMOUS,
    CLUSTER_NAME,
    SUPPORTED_OPERATIONS,
    WILDCARD,
    WILDCARD_PRINCIPAL,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
    bitfield,
    from_code,
    parse_principal,
)

__all__ = ["ACL_OPERATIONS", "ANONYMOUS", "CLUSTER_NAME", "SUPPORTED_OPERATIONS", "WILDCARD", "WILDCARD_PRINCIPAL",
           "AclBinding", "AclBindingFilter", "AclOperation", "AclPermissionType", "PatternType", "ResourceType",
           "bitfield", "from_code", "parse_principal"]
