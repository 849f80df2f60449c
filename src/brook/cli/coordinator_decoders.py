"""kafka-dump-log's --offsets-decoder and --transaction-log-decoder: Kafka 3.9's DumpLogSegments.OffsetsMessageParser
and TransactionLogMessageParser. Records are read with brook.protocol.coordinator_records (the broker's own formats);
this module only prints them the way Kafka does:

- __consumer_offsets: key `{"type":"<key version>","data":{...}}`, payload `{"version":"<value version>","data":{...}}`
  or `<DELETE>`, the data as the generated *JsonConverter.write(message, version) gives it (fields of that version
  in schema order, camelCase names, bytes as base64); a consumer group's member subscription and assignment are
  replaced by their ConsumerProtocolSubscription / Assignment JSON (kept as base64 when they do not parse).
- __transaction_state: TransactionLog.formatRecordKeyAndValue, `transaction_metadata::transactionalId=<id>` and
  `producerId:..,producerEpoch:..,state=..,partitions=[..],txnLastUpdateTimestamp=..,txnTimeoutMs=..`.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import struct

from brook.cli.java_collections import scala_hash_set_order, topic_partition_hash
from brook.protocol import coordinator_records as cr
from brook.protocol.consumer_protocol import ASSIGNMENTS, PROTOCOL_TYPE, SUBSCRIPTIONS, read_versioned

_OFFSET_VALUE_VERSIONS = range(0, 4)  # what coordinator_records reads (Kafka 3.9 also reads the flexible v4)
_GROUP_VALUE_VERSIONS = range(0, 4)
_TXN_STATES = ("Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead",
               "PrepareEpochFence")  # TransactionState.fromId


class JavaException(Exception):
    """An exception DumpLogSegments does not catch: the tool stops with it (printed by kafka-dump-log's main)."""

    def __init__(self, cls: str, message: str) -> None:
        super().__init__(message)
        self.cls = cls

    def java(self) -> str:
        return f"{self.cls}: {self}" if str(self) else self.cls  # Throwable.toString()


def _json(node: dict) -> str:
    """Jackson's ObjectNode.toString: compact, non-ASCII as is."""
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()  # Jackson's default Base64 variant (MIME without line feeds)


def _version(data: bytes) -> int:
    return struct.unpack_from(">h", data)[0]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _entity_json(value: object) -> object:
    """A kio entity as the generated JsonConverter writes it: its version's fields in schema order."""
    if dataclasses.is_dataclass(value):
        return {_camel(f.name): _entity_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_entity_json(v) for v in value]
    if isinstance(value, bytes):
        return _b64(value)
    return value


def _embedded(data: bytes, classes: tuple) -> object:
    """prepareGroupMetadataValue's replace(): the version-prefixed consumer protocol bytes as JSON, or the base64 of
    the original bytes when they do not parse (Kafka swallows the RuntimeException)."""
    try:
        entity = read_versioned(data, classes)
    except Exception:  # too short, an unknown version, a truncated field
        return _b64(data)
    return _entity_json(entity)


def _offset_key_json(key: cr.OffsetCommitKey | cr.GroupMetadataKey) -> dict:
    if isinstance(key, cr.GroupMetadataKey):
        return {"group": key.group}
    return {"group": key.group, "topic": key.topic, "partition": key.partition}


def _offset_value_json(v: cr.OffsetCommitValue, version: int) -> dict:
    out: dict = {"offset": v.offset}
    if version >= 3:
        out["leaderEpoch"] = v.leader_epoch
    out["metadata"] = v.metadata
    out["commitTimestamp"] = v.commit_timestamp
    if version == 1:
        out["expireTimestamp"] = v.expire_timestamp
    return out


def _group_value_json(v: cr.GroupMetadataValue, version: int) -> dict:
    consumer = v.protocol_type == PROTOCOL_TYPE  # the embedded protocol is decoded
    out: dict = {"protocolType": v.protocol_type, "generation": v.generation, "protocol": v.protocol,
                 "leader": v.leader}
    if version >= 2:
        out["currentStateTimestamp"] = v.current_state_timestamp
    members = []
    for m in v.members:
        member: dict = {"memberId": m.member_id}
        if version >= 3:
            member["groupInstanceId"] = m.group_instance_id
        member["clientId"] = m.client_id
        member["clientHost"] = m.client_host
        if version >= 1:
            member["rebalanceTimeout"] = m.rebalance_timeout
        member["sessionTimeout"] = m.session_timeout
        member["subscription"] = _embedded(m.subscription, SUBSCRIPTIONS) if consumer else _b64(m.subscription)
        member["assignment"] = _embedded(m.assignment, ASSIGNMENTS) if consumer else _b64(m.assignment)
        members.append(member)
    out["members"] = members
    return out


def parse_offsets_record(offset: int, key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
    """OffsetsMessageParser.parse: (key text, payload text); None is not printed."""
    if key is None:
        raise JavaException("java.lang.RuntimeException", f"Failed to decode message at offset {offset} using "
                            "offset topic decoder (message had a missing key)")
    if len(key) < 2:
        return f"Error at offset {offset}, skipping. Could not read version from key's buffer.", None
    record_type = _version(key)
    if record_type not in (0, 1, 2):  # Brook's coordinator writes the classic group records only
        return f"Unknown record type {record_type} at offset {offset}, skipping.", None
    try:
        k = cr.decode_key(key)
    except Exception:
        return (f"Error at offset {offset}, skipping. Could not read record with version {record_type} from key's "
                "buffer due to: null."), None
    key_text = _json({"type": str(record_type), "data": _offset_key_json(k)})
    if value is None:
        return key_text, "<DELETE>"
    if len(value) < 2:
        return f"Error at offset {offset}, skipping. Could not read version from value's buffer.", None
    version = _version(value)
    is_group = isinstance(k, cr.GroupMetadataKey)
    name, versions = ("GroupMetadataValue", _GROUP_VALUE_VERSIONS) if is_group else \
        ("OffsetCommitValue", _OFFSET_VALUE_VERSIONS)
    reason = f"Can't read version {version} of {name}" if version not in versions else "null"
    try:
        if version not in versions:
            raise ValueError(reason)
        data = _group_value_json(cr.decode_group_value(value), version) if is_group \
            else _offset_value_json(cr.decode_offset_value(value), version)
    except Exception:
        return (f"Error at offset {offset}, skipping. Could not read record with version {version} from value's "
                f"buffer due to: {reason}."), None
    return key_text, _json({"version": str(version), "data": data})


def parse_txn_record(key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
    """TransactionLogMessageParser.parse, i.e. TransactionLog.formatRecordKeyAndValue."""
    if key is None:
        raise JavaException("java.lang.NullPointerException", "")  # readTxnRecordKey(null)
    version = _version(key)
    if version != cr.TXN_KEY_VERSION:
        return f"unknown::version={version}", None
    transactional_id = cr.decode_txn_key(key).transactional_id
    key_text = f"transaction_metadata::transactionalId={transactional_id}"
    if value is None:
        return key_text, "<DELETE>"
    value_version = _version(value)
    if value_version != cr.TXN_VALUE_VERSION:  # Kafka 3.9 also reads the flexible v1
        raise JavaException("java.lang.IllegalStateException",
                            f"Unknown version {value_version} from the transaction log message value")
    v = cr.decode_txn_value(value)
    if not 0 <= v.transaction_status < len(_TXN_STATES):
        raise JavaException("java.lang.IllegalStateException", f"Unknown transaction state id "
                            f"{v.transaction_status} from the transaction status message")
    state = _TXN_STATES[v.transaction_status]
    partitions: list[tuple[str, int]] = []
    if state != "Empty":  # readTxnRecordValue adds an Empty transaction's partitions to nothing
        groups = [[(topic, p) for p in ps] for topic, ps in v.transaction_partitions or ()]
        partitions = scala_hash_set_order(groups, lambda tp: topic_partition_hash(*tp))
    shown = ",".join(f"{t}-{p}" for t, p in partitions)  # TopicPartition.toString, in the mutable.Set's order
    return key_text, (f"producerId:{v.producer_id},producerEpoch:{v.producer_epoch},state={state},"
                      f"partitions=[{shown}],txnLastUpdateTimestamp={v.transaction_last_update_timestamp_ms},"
                      f"txnTimeoutMs={v.transaction_timeout_ms}")
