"""The authorizer's rules, as Kafka 3.9's core/src/main/scala/kafka/security/authorizer/AclAuthorizer.scala
(authorizeAction, matchingAcls) and clients' common/acl filters define them."""

from __future__ import annotations

from brook.acl import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
    bitfield,
)
from brook.broker.authorizer import Authorizer, parse_super_users
from brook.metadata import MemoryMetadataStore

T, G, C = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
LIT, PRE = PatternType.LITERAL, PatternType.PREFIXED
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
Op = AclOperation
ALICE, BOB = "User:alice", "User:bob"


def acl(name: str, op: AclOperation, perm: AclPermissionType = ALLOW, principal: str = ALICE, host: str = "*",
        rtype: ResourceType = T, ptype: PatternType = LIT) -> AclBinding:
    return AclBinding(rtype, name, ptype, principal, host, op, perm)


def test_no_acl_denies_unless_allow_everyone() -> None:
    assert not Authorizer().authorize(ALICE, "1.2.3.4", Op.READ, T, "t")
    assert Authorizer(allow_everyone_if_no_acl_found=True).authorize(ALICE, "1.2.3.4", Op.READ, T, "t")
    # any ACL on the resource, even for someone else, switches allow.everyone.if.no.acl.found off for it
    a = Authorizer(allow_everyone_if_no_acl_found=True, bindings=[acl("t", Op.READ, principal=BOB)])
    assert not a.authorize(ALICE, "h", Op.READ, T, "t")
    assert a.authorize(ALICE, "h", Op.READ, T, "other")


def test_super_users() -> None:
    a = Authorizer(parse_super_users(" User:admin ;User:ANONYMOUS;"), bindings=[acl("t", Op.READ, DENY, "User:*")])
    assert a.super_users == {"User:admin", "User:ANONYMOUS"}
    assert a.authorize("User:ANONYMOUS", "h", Op.WRITE, T, "t")
    assert not a.authorize(ALICE, "h", Op.READ, T, "t")


def test_deny_beats_allow_and_wildcards() -> None:
    a = Authorizer(bindings=[acl("*", Op.READ, principal="User:*"), acl("t", Op.READ, DENY, host="10.0.0.1")])
    assert a.authorize(ALICE, "10.0.0.2", Op.READ, T, "t")
    assert not a.authorize(ALICE, "10.0.0.1", Op.READ, T, "t")
    assert a.authorize(BOB, "10.0.0.1", Op.READ, T, "x")
    assert not a.authorize(BOB, "10.0.0.1", Op.WRITE, T, "x")


def test_prefixed_and_literal() -> None:
    a = Authorizer(bindings=[acl("app-", Op.WRITE, ptype=PRE), acl("app-secret", Op.WRITE, DENY)])
    assert a.authorize(ALICE, "h", Op.WRITE, T, "app-1")
    assert not a.authorize(ALICE, "h", Op.WRITE, T, "app-secret")
    assert not a.authorize(ALICE, "h", Op.WRITE, T, "ap")
    assert not a.authorize(ALICE, "h", Op.WRITE, G, "app-1")  # other resource type


def test_implied_operations() -> None:
    for op in (Op.READ, Op.WRITE, Op.DELETE, Op.ALTER):
        assert Authorizer(bindings=[acl("t", op)]).authorize(ALICE, "h", Op.DESCRIBE, T, "t"), op
    assert not Authorizer(bindings=[acl("t", Op.CREATE)]).authorize(ALICE, "h", Op.DESCRIBE, T, "t")
    a = Authorizer(bindings=[acl("t", Op.ALTER_CONFIGS)])
    assert a.authorize(ALICE, "h", Op.DESCRIBE_CONFIGS, T, "t")
    assert not a.authorize(ALICE, "h", Op.ALTER, T, "t")
    a = Authorizer(bindings=[acl("t", Op.ALL)])
    assert all(a.authorize(ALICE, "h", op, T, "t") for op in (Op.READ, Op.WRITE, Op.DESCRIBE, Op.DELETE))
    # a DENY of READ does not deny DESCRIBE implied by another ALLOW; DENY ALL denies everything
    a = Authorizer(bindings=[acl("t", Op.WRITE), acl("t", Op.READ, DENY)])
    assert a.authorize(ALICE, "h", Op.DESCRIBE, T, "t")
    a = Authorizer(bindings=[acl("t", Op.WRITE), acl("t", Op.ALL, DENY)])
    assert not a.authorize(ALICE, "h", Op.WRITE, T, "t")


def test_filters_match_and_delete() -> None:
    bindings = [acl("t", Op.READ), acl("*", Op.READ, principal=BOB), acl("t-", Op.WRITE, ptype=PRE),
                acl("g", Op.READ, rtype=G)]
    store = MemoryMetadataStore()
    a = Authorizer(bindings=bindings, store=store)
    anything = AclBindingFilter(ResourceType.ANY, None, PatternType.ANY, None, None, Op.ANY, AclPermissionType.ANY)
    assert a.acls(anything) == bindings
    match = anything._replace(resource_type=T, name="t-1", pattern_type=PatternType.MATCH)
    assert a.acls(match) == [bindings[1], bindings[2]]  # the wildcard and the prefix, not the literal "t"
    assert a.acls(anything._replace(name="t")) == [bindings[0]]
    assert a.acls(anything._replace(principal=BOB)) == [bindings[1]]
    assert a.acls(anything._replace(pattern_type=PRE)) == [bindings[2]]
    deleted = a.delete_acls([anything._replace(resource_type=G), anything._replace(operation=Op.READ)])
    assert deleted == [[bindings[3]], [bindings[0], bindings[1]]]
    assert a.bindings() == [bindings[2]] and list(store.acls.values()) == [(bindings[2],)]


def test_create_validation() -> None:
    a = Authorizer()
    results = a.create_acls([acl("t", Op.READ), acl("t", Op.READ), acl("a/b", Op.READ),
                             acl("t", Op.READ, principal="alice"), acl("t", Op.UNKNOWN)])
    assert results == [None, None, "Failed to create ACL",
                       "Could not parse principal from `alice` (no colon is present separating the principal type "
                       "from the principal name)", "Failed to create ACL"]
    assert a.bindings() == [acl("t", Op.READ)]  # the same binding twice is stored once


def test_authorized_operations_bitfield() -> None:
    # Utils.to32BitField: bit (1 << operation code)
    assert bitfield([Op.READ, Op.DESCRIBE]) == (1 << 3) | (1 << 8)
    a = Authorizer(bindings=[acl("t", Op.READ)])
    assert a.authorized_operations(ALICE, "h", T, "t", (Op.READ, Op.WRITE, Op.DESCRIBE)) == [Op.READ, Op.DESCRIBE]
    assert bitfield([Op.ALL]) == 4


def test_authorize_by_resource_type() -> None:
    a = Authorizer(bindings=[acl("x", Op.WRITE)])
    assert a.authorize_by_resource_type(ALICE, "h", Op.WRITE, T)
    assert not a.authorize_by_resource_type(BOB, "h", Op.WRITE, T)
    assert not a.authorize_by_resource_type(ALICE, "h", Op.WRITE, G)
