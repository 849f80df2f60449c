"""The ACL authorizer: Kafka's AclAuthorizer rules over an in-memory ACL table (no asyncio, unit-testable).

Rules (AclAuthorizer.authorizeAction): super users are allowed everything; otherwise the ACLs of the literal
resource, the wildcard `*` resource and every prefix of the name apply; no ACL at all means
`allow.everyone.if.no.acl.found`; a matching DENY beats any ALLOW; ALLOW of READ/WRITE/DELETE/ALTER implies
DESCRIBE, ALLOW of ALTER_CONFIGS implies DESCRIBE_CONFIGS, ALL matches every operation; principal `User:*` and
host `*` match anyone.

The ACLs live in the metadata store; the authorizer keeps a cache of them by resource pattern, reloads a
pattern whenever the store says it changed (Kafka: the /kafka-acl-changes notifications), and writes changes
to the store one pattern at a time (Kafka: one /kafka-acl/<type>/<name> znode)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from brook.acl import (
    WILDCARD,
    WILDCARD_PRINCIPAL,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
    parse_principal,
)
from brook.metadata import AclPattern, AclsChanged, MemoryMetadataStore, MetadataStore

_IMPLIED = {AclOperation.DESCRIBE: (AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE,
                                    AclOperation.DELETE, AclOperation.ALTER),
            AclOperation.DESCRIBE_CONFIGS: (AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS)}


def parse_super_users(value: str | None) -> frozenset[str]:
    """super.users: semicolon-separated principals (AclAuthorizer.configure)."""
    return frozenset(p.strip() for p in (value or "").split(";") if p.strip())


class Authorizer:
    def __init__(self, super_users: Iterable[str] = (), allow_everyone_if_no_acl_found: bool = False,
                 bindings: Iterable[AclBinding] = (), store: MetadataStore | None = None) -> None:
        """`bindings` are added to the store (an in-memory one when none is given)."""
        self.super_users = frozenset(super_users)
        self.allow_everyone = allow_everyone_if_no_acl_found
        self.store = store if store is not None else MemoryMetadataStore()
        self.table: dict[AclPattern, tuple[AclBinding, ...]] = dict(self.store.acls)
        self.has_prefixed = any(p[2] == PatternType.PREFIXED for p in self.table)
        self.store.subscribe(AclsChanged, lambda e: self._reload(e.pattern))
        self._add(list(bindings))

    # -- authorization ----------------------------------------------------------------------------------------
    def authorize(self, principal: str, host: str, operation: AclOperation, resource_type: ResourceType,
                  name: str) -> bool:
        if principal in self.super_users:
            return True
        acls = self.matching_acls(resource_type, name)
        if not acls:
            return self.allow_everyone
        if self._exists(acls, principal, host, (operation,), AclPermissionType.DENY):
            return False
        return self._exists(acls, principal, host, _IMPLIED.get(operation, (operation,)), AclPermissionType.ALLOW)

    def matching_acls(self, resource_type: ResourceType, name: str) -> list[AclBinding]:
        table = self.table
        out = list(table.get((resource_type, name, PatternType.LITERAL), ()))
        out += table.get((resource_type, WILDCARD, PatternType.LITERAL), ()) if name != WILDCARD else ()
        if self.has_prefixed:  # one lookup per prefix of the name, not a scan of the table
            for end in range(1, len(name) + 1):
                out += table.get((resource_type, name[:end], PatternType.PREFIXED), ())
        return out

    @staticmethod
    def _exists(acls: list[AclBinding], principal: str, host: str, operations: tuple[AclOperation, ...],
                permission: AclPermissionType) -> bool:
        for acl in acls:
            if acl.permission == permission and acl.principal in (principal, WILDCARD_PRINCIPAL) \
                    and (acl.operation in operations or acl.operation == AclOperation.ALL) \
                    and acl.host in (host, WILDCARD):
                return True
        return False

    def authorized_operations(self, principal: str, host: str, resource_type: ResourceType, name: str,
                              supported: tuple[AclOperation, ...]) -> list[AclOperation]:
        return [op for op in supported if self.authorize(principal, host, op, resource_type, name)]

    def authorize_by_resource_type(self, principal: str, host: str, operation: AclOperation,
                                   resource_type: ResourceType) -> bool:
        """Whether `operation` is allowed on some resource of the type (Authorizer.authorizeByResourceType,
        simplified: an ALLOW binding for the principal that no wildcard DENY covers)."""
        if principal in self.super_users:
            return True
        mine = [b for acls in self.table.values() for b in acls if b.resource_type == resource_type
                and b.principal in (principal, WILDCARD_PRINCIPAL) and b.host in (host, WILDCARD)
                and b.operation in (operation, AclOperation.ALL)]
        if not any(acls for (rtype, _, _), acls in self.table.items() if rtype == resource_type):
            return self.allow_everyone
        if any(b.permission == AclPermissionType.DENY and b.name == WILDCARD
               and b.pattern_type == PatternType.LITERAL for b in mine):
            return False
        return any(b.permission == AclPermissionType.ALLOW for b in mine)

    # -- the ACL table ----------------------------------------------------------------------------------------
    def _reload(self, pattern: AclPattern) -> None:
        acls = self.store.acls.get(pattern)
        if acls:
            self.table[pattern] = acls
        else:
            self.table.pop(pattern, None)
        self.has_prefixed = any(p[2] == PatternType.PREFIXED for p in self.table)

    def _add(self, bindings: list[AclBinding]) -> None:
        """Add each pattern's bindings in one write (a binding already there is kept once)."""
        added: dict[AclPattern, dict[AclBinding, None]] = {}
        for b in bindings:
            added.setdefault(b.pattern, {})[b] = None
        for pattern, new in added.items():
            self.store.update_acls(pattern, _appending(new))

    def acls(self, flt: AclBindingFilter) -> list[AclBinding]:
        return [b for acls in self.table.values() for b in acls if flt.matches(b)]

    def create_acls(self, bindings: list[AclBinding]) -> list[str | None]:
        """One result per binding: None, or why it is refused. AclAuthorizer refuses unknown elements and a
        `/` in the name as INVALID_REQUEST "Failed to create ACL"; a principal without a colon is refused with
        KRaft's message (AclAuthorizer answers UNKNOWN_SERVER_ERROR without a message)."""
        results: list[str | None] = []
        valid = []
        for b in bindings:
            if b.is_unknown() or "/" in b.name:
                results.append("Failed to create ACL")
                continue
            try:
                parse_principal(b.principal)
            except ValueError:
                results.append(f"Could not parse principal from `{b.principal}` (no colon is present separating "
                               "the principal type from the principal name)")
                continue
            valid.append(b)
            results.append(None)
        self._add(valid)
        return results

    def delete_acls(self, filters: list[AclBindingFilter]) -> list[list[AclBinding]]:
        """Per filter, the bindings it deleted; a binding several filters match counts for the first."""
        deleted: list[list[AclBinding]] = [[] for _ in filters]

        def first_match(b: AclBinding) -> int | None:
            return next((i for i, f in enumerate(filters) if f.matches(b)), None)

        for pattern, acls in list(self.table.items()):
            if all(first_match(b) is None for b in acls):
                continue
            old, new = self.store.update_acls(pattern, lambda acls: [b for b in acls if first_match(b) is None])
            for b in old:
                index = first_match(b)
                if index is not None:
                    deleted[index].append(b)
        return deleted

    def bindings(self) -> list[AclBinding]:
        return [b for acls in self.table.values() for b in acls]


def _appending(new: Iterable[AclBinding]) -> Callable[[tuple[AclBinding, ...]], tuple[AclBinding, ...]]:
    return lambda acls: (*acls, *(b for b in new if b not in acls))
