"""Brook's __consumer_offsets record formats against Kafka's own JSON message specs, read at test time.

A tiny spec-driven codec (non-flexible versions only: int16/32/64, string, bytes, struct arrays) built from
OffsetCommitKey/Value and GroupMetadataKey/Value.json encodes the same values Brook encodes: the bytes must be
identical for the versions Brook writes (key versions 1 and 2, OffsetCommitValue v3, GroupMetadataValue v3), so
field order, types and nullability follow the spec; Brook must read every version it claims (v0-v3) as the
spec lays them out; and its own encode/decode round-trips.
"""

from __future__ import annotations

import functools
import json
import re
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brook.protocol import coordinator_records as cr
from brook.protocol.coordinator_records import (
    GroupMetadataKey,
    GroupMetadataValue,
    MemberMetadata,
    OffsetCommitKey,
    OffsetCommitValue,
)

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "kafka-protocol" / "messages"
NAMES = ("OffsetCommitKey", "OffsetCommitValue", "GroupMetadataKey", "GroupMetadataValue")

pytestmark = pytest.mark.skipif(not all((SPECS / f"{n}.json").exists() for n in NAMES),
                                reason=f"Kafka's message specs not found in {SPECS}")


# -- the specs -------------------------------------------------------------------------------------------------
def load_spec(name: str) -> dict:
    text = (SPECS / f"{name}.json").read_text()
    return json.loads("\n".join(re.sub(r"^\s*//.*$", "", line) for line in text.splitlines()))


def in_range(versions: str, v: int) -> bool:
    """Kafka's version ranges: "none", "3", "0-1", "2+"."""
    if versions == "none":
        return False
    if versions.endswith("+"):
        return v >= int(versions[:-1])
    lo, _, hi = versions.partition("-")
    return int(lo) <= v <= int(hi or lo)


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Spec:
    def __init__(self, name: str) -> None:
        self.raw = load_spec(name)
        self.name = name
        self.structs = {s["name"]: s["fields"] for s in self.raw.get("commonStructs", [])}

    def valid(self, v: int) -> bool:
        return in_range(self.raw["validVersions"], v)

    def flexible(self, v: int) -> bool:
        return in_range(self.raw["flexibleVersions"], v)

    def fields(self, v: int, fields: list[dict] | None = None) -> list[tuple[str, str, bool, list | None]]:
        """(snake_case name, type, nullable, nested fields) of the fields present in version v, in order."""
        out = []
        for f in self.raw["fields"] if fields is None else fields:
            if not in_range(f["versions"], v):
                continue
            nested = None
            if f["type"].startswith("[]"):
                nested = self.fields(v, f.get("fields") or self.structs[f["type"][2:]])
            nullable = in_range(f.get("nullableVersions", "none"), v)
            out.append((camel_to_snake(f["name"]), f["type"], nullable, nested))
        return out


@functools.cache
def spec(name: str) -> Spec:
    return Spec(name)


@pytest.fixture(scope="module")
def specs() -> dict[str, Spec]:
    return {n: spec(n) for n in NAMES}


# -- a reference codec driven by the spec (non-flexible versions) -------------------------------------------------
INTS = {"int16": ">h", "int32": ">i", "int64": ">q"}


def ref_encode(fields: list, values: dict) -> bytes:
    out = b""
    for name, typ, nullable, nested in fields:
        value = values[name]
        if typ in INTS:
            out += struct.pack(INTS[typ], value)
        elif typ == "string":
            if value is None:
                assert nullable, name
                out += struct.pack(">h", -1)
            else:
                data = value.encode()
                out += struct.pack(">h", len(data)) + data
        elif typ == "bytes":
            if value is None:
                assert nullable, name
                out += struct.pack(">i", -1)
            else:
                out += struct.pack(">i", len(value)) + value
        elif nested is not None:
            out += struct.pack(">i", len(value)) + b"".join(ref_encode(nested, item) for item in value)
        else:
            raise AssertionError(f"type {typ} of {name} not handled")
    return out


def ref_decode(fields: list, data: bytes, pos: int = 0) -> tuple[dict, int]:
    values: dict = {}
    for name, typ, nullable, nested in fields:
        if typ in INTS:
            (values[name],) = struct.unpack_from(INTS[typ], data, pos)
            pos += struct.calcsize(INTS[typ])
        elif typ in ("string", "bytes"):
            fmt = ">h" if typ == "string" else ">i"
            (n,) = struct.unpack_from(fmt, data, pos)
            pos += struct.calcsize(fmt)
            if n < 0:
                assert nullable, name
                values[name] = None
            else:
                raw = data[pos:pos + n]
                values[name] = raw.decode() if typ == "string" else raw
                pos += n
        else:
            (n,) = struct.unpack_from(">i", data, pos)
            pos += 4
            items = []
            for _ in range(n):
                item, pos = ref_decode(nested, data, pos)
                items.append(item)
            values[name] = items
    return values, pos


def versioned(version: int, body: bytes) -> bytes:
    return struct.pack(">h", version) + body


# -- sample values, one distinctive value per field --------------------------------------------------------------
def offset_value_dict(v: OffsetCommitValue) -> dict:
    return {"offset": v.offset, "leader_epoch": v.leader_epoch, "metadata": v.metadata,
            "commit_timestamp": v.commit_timestamp, "expire_timestamp": v.expire_timestamp}


def member_dict(m: MemberMetadata) -> dict:
    return {"member_id": m.member_id, "group_instance_id": m.group_instance_id, "client_id": m.client_id,
            "client_host": m.client_host, "rebalance_timeout": m.rebalance_timeout,
            "session_timeout": m.session_timeout, "subscription": m.subscription, "assignment": m.assignment}


def group_value_dict(v: GroupMetadataValue) -> dict:
    return {"protocol_type": v.protocol_type, "generation": v.generation, "protocol": v.protocol,
            "leader": v.leader, "current_state_timestamp": v.current_state_timestamp,
            "members": [member_dict(m) for m in v.members]}


OFFSET_VALUE = OffsetCommitValue(offset=0x0102030405060708, leader_epoch=0x0A0B0C0D, metadata="meta-ü",
                                 commit_timestamp=1_700_000_000_123)
MEMBERS = (
    MemberMetadata("consumer-1-4f1c", "instance-a", "client-a", "/127.0.0.1", 300000, 45000,
                   b"\x00\x01subscription", b"\x00\x01assignment"),
    MemberMetadata("consumer-2-9e2d", None, "client-b", "/10.0.0.2", 60000, 10000, b"", b""),
)
GROUP_VALUE = GroupMetadataValue(protocol_type="consumer", generation=0x11223344, protocol="range",
                                 leader="consumer-1-4f1c", current_state_timestamp=1_700_000_000_456,
                                 members=MEMBERS)


# -- the versions Brook writes -------------------------------------------------------------------------------------
def test_written_versions_are_valid_non_flexible_versions_of_the_specs(specs):
    assert specs["OffsetCommitKey"].valid(cr.OFFSET_COMMIT_KEY_VERSION)
    assert specs["GroupMetadataKey"].valid(cr.GROUP_METADATA_KEY_VERSION)
    assert (cr.OFFSET_COMMIT_KEY_VERSION, cr.GROUP_METADATA_KEY_VERSION) == (1, 2)
    assert (cr.OFFSET_COMMIT_VALUE_VERSION, cr.GROUP_METADATA_VALUE_VERSION) == (3, 3)
    for name, v in (("OffsetCommitKey", 1), ("GroupMetadataKey", 2), ("OffsetCommitValue", 3),
                    ("GroupMetadataValue", 3)):
        assert specs[name].valid(v) and not specs[name].flexible(v), (name, v)


def test_spec_field_layout_of_the_written_versions(specs):
    """The spec's field order and types for the written versions -- Brook's dataclasses hold the same fields."""
    def layout(fields):  # type: ignore[no-untyped-def]
        return [(n, t, nl) if nested is None else (n, t, nl, layout(nested)) for n, t, nl, nested in fields]

    assert layout(specs["OffsetCommitKey"].fields(1)) == \
        [("group", "string", False), ("topic", "string", False), ("partition", "int32", False)]
    assert layout(specs["GroupMetadataKey"].fields(2)) == [("group", "string", False)]
    assert layout(specs["OffsetCommitValue"].fields(3)) == [
        ("offset", "int64", False), ("leader_epoch", "int32", False), ("metadata", "string", False),
        ("commit_timestamp", "int64", False)]
    assert layout(specs["GroupMetadataValue"].fields(3)) == [
        ("protocol_type", "string", False), ("generation", "int32", False), ("protocol", "string", True),
        ("leader", "string", True), ("current_state_timestamp", "int64", False),
        ("members", "[]MemberMetadata", False, [
            ("member_id", "string", False), ("group_instance_id", "string", True), ("client_id", "string", False),
            ("client_host", "string", False), ("rebalance_timeout", "int32", False),
            ("session_timeout", "int32", False), ("subscription", "bytes", False),
            ("assignment", "bytes", False)])]
    # every spec field of the written versions is a field of Brook's record classes
    for cls, spec, v in ((OffsetCommitKey, "OffsetCommitKey", 1), (GroupMetadataKey, "GroupMetadataKey", 2),
                         (OffsetCommitValue, "OffsetCommitValue", 3), (GroupMetadataValue, "GroupMetadataValue", 3)):
        assert {n for n, *_ in specs[spec].fields(v)} <= set(cls.__slots__), spec
    [(_, _, _, member_fields)] = [f for f in specs["GroupMetadataValue"].fields(3) if f[0] == "members"]
    assert [n for n, *_ in member_fields] == list(MemberMetadata.__slots__)


def test_offset_commit_key_bytes_match_the_spec(specs):
    key = OffsetCommitKey("group-é", "topic.a", 0x01020304)
    expected = versioned(1, ref_encode(specs["OffsetCommitKey"].fields(1),
                                       {"group": key.group, "topic": key.topic, "partition": key.partition}))
    assert cr.encode_key(key) == expected
    assert cr.decode_key(expected) == key
    assert cr.decode_key(versioned(0, expected[2:])) == key  # v0 has the same fields


def test_group_metadata_key_bytes_match_the_spec(specs):
    key = GroupMetadataKey("group-é")
    expected = versioned(2, ref_encode(specs["GroupMetadataKey"].fields(2), {"group": key.group}))
    assert cr.encode_key(key) == expected
    assert cr.decode_key(expected) == key


def test_offset_commit_value_v3_bytes_match_the_spec(specs):
    fields = specs["OffsetCommitValue"].fields(3)
    expected = versioned(3, ref_encode(fields, offset_value_dict(OFFSET_VALUE)))
    data = cr.encode_offset_value(OFFSET_VALUE)
    assert data == expected
    decoded, end = ref_decode(fields, data, 2)
    assert end == len(data)
    assert decoded == {k: v for k, v in offset_value_dict(OFFSET_VALUE).items() if k != "expire_timestamp"}
    assert cr.decode_offset_value(data) == OFFSET_VALUE


def test_group_metadata_value_v3_bytes_match_the_spec(specs):
    fields = specs["GroupMetadataValue"].fields(3)
    expected = versioned(3, ref_encode(fields, group_value_dict(GROUP_VALUE)))
    data = cr.encode_group_value(GROUP_VALUE)
    assert data == expected
    decoded, end = ref_decode(fields, data, 2)
    assert end == len(data)
    assert decoded == group_value_dict(GROUP_VALUE)
    assert cr.decode_group_value(data) == GROUP_VALUE


def test_empty_group_value_with_null_protocol_and_leader(specs):
    """An Empty group (all members gone) is written with a null protocol and leader and no members."""
    empty = GroupMetadataValue("consumer", 7, None, None, 1_700_000_000_000, ())
    data = cr.encode_group_value(empty)
    assert data == versioned(3, ref_encode(specs["GroupMetadataValue"].fields(3), group_value_dict(empty)))
    assert cr.decode_group_value(data) == empty


# -- the versions Brook reads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_reads_every_offset_commit_value_version(specs, version):
    values = offset_value_dict(OffsetCommitValue(42, 5, "m", 1_700_000_000_000, 1_700_000_600_000))
    data = versioned(version, ref_encode(specs["OffsetCommitValue"].fields(version), values))
    got = cr.decode_offset_value(data)
    present = {n for n, *_ in specs["OffsetCommitValue"].fields(version)}
    assert (got.offset, got.metadata, got.commit_timestamp) == (42, "m", 1_700_000_000_000)
    assert got.leader_epoch == (5 if "leader_epoch" in present else -1)
    assert got.expire_timestamp == (1_700_000_600_000 if "expire_timestamp" in present else -1)


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_reads_every_group_metadata_value_version(specs, version):
    fields = specs["GroupMetadataValue"].fields(version)
    data = versioned(version, ref_encode(fields, group_value_dict(GROUP_VALUE)))
    got = cr.decode_group_value(data)
    present = {n for n, *_ in fields}
    [(_, _, _, member_fields)] = [f for f in fields if f[0] == "members"]
    member_present = {n for n, *_ in member_fields}
    assert (got.protocol_type, got.generation, got.protocol, got.leader) == \
        (GROUP_VALUE.protocol_type, GROUP_VALUE.generation, GROUP_VALUE.protocol, GROUP_VALUE.leader)
    assert got.current_state_timestamp == \
        (GROUP_VALUE.current_state_timestamp if "current_state_timestamp" in present else -1)
    assert len(got.members) == len(MEMBERS)
    for g, m in zip(got.members, MEMBERS, strict=True):
        assert (g.member_id, g.client_id, g.client_host, g.session_timeout, g.subscription, g.assignment) == \
            (m.member_id, m.client_id, m.client_host, m.session_timeout, m.subscription, m.assignment)
        assert g.group_instance_id == (m.group_instance_id if "group_instance_id" in member_present else None)
        assert g.rebalance_timeout == (m.rebalance_timeout if "rebalance_timeout" in member_present else -1)


def test_unknown_key_version_is_refused():
    with pytest.raises(ValueError):
        cr.decode_key(versioned(3, b"\x00\x01g"))


# -- round trips ------------------------------------------------------------------------------------------------
names = st.text(max_size=40)
i32 = st.integers(-(2**31), 2**31 - 1)
i64 = st.integers(-(2**63), 2**63 - 1)
members = st.builds(MemberMetadata, names, st.none() | names, names, names, i32, i32, st.binary(max_size=64),
                    st.binary(max_size=64))


@settings(max_examples=200, deadline=None)
@given(st.builds(OffsetCommitKey, names, names, i32) | st.builds(GroupMetadataKey, names))
def test_key_round_trip(key):
    assert cr.decode_key(cr.encode_key(key)) == key


@settings(max_examples=200, deadline=None)
@given(st.builds(OffsetCommitValue, i64, i32, names, i64))
def test_offset_value_round_trip_and_spec_layout(value):
    data = cr.encode_offset_value(value)
    assert cr.decode_offset_value(data) == value
    decoded, end = ref_decode(spec("OffsetCommitValue").fields(3), data, 2)
    assert end == len(data) and decoded["offset"] == value.offset and decoded["metadata"] == value.metadata


@settings(max_examples=100, deadline=None)
@given(st.builds(GroupMetadataValue, names, i32, st.none() | names, st.none() | names, i64,
                 st.lists(members, max_size=4).map(tuple)))
def test_group_value_round_trip_and_spec_layout(value):
    data = cr.encode_group_value(value)
    assert cr.decode_group_value(data) == value
    decoded, end = ref_decode(spec("GroupMetadataValue").fields(3), data, 2)
    assert end == len(data) and decoded == group_value_dict(value)
