"""kafka-dump-log --offsets-decoder / --transaction-log-decoder on the coordinators' own logs, after real group
commits and transactions from confluent-kafka (Kafka 3.9's DumpLogSegments.OffsetsMessageParser and
TransactionLogMessageParser)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from cli_helpers import tool
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brook.cli.coordinator_decoders import parse_offsets_record, parse_txn_record
from brook.protocol import coordinator_records as cr

SINGLE = {"offsets.topic.num.partitions": "1", "transaction.state.log.num.partitions": "1"}
TS = r"\d{13}"
MEMBER = r"dumper-[0-9a-f-]{36}"  # librdkafka's member id: client.id-UUID


def _record_lines(path: Path, decoder: str) -> list[str]:
    """The record lines ("| offset: ...") of a decoded dump."""
    r = tool("kafka-dump-log", "--files", str(path), decoder)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line.startswith("| ")]


def _meta(offset: int, key_size: int, value_size: int) -> str:
    # DumpLogSegments.dumpLog: the record's metadata, then " key: ... payload: ..." from the MessageParser
    return rf"\| offset: {offset} CreateTime: {TS} keySize: {key_size} valueSize: {value_size} sequence: -1 " \
        r"headerKeys: \[\] "


def _match(lines: list[str], patterns: list[str]) -> None:
    assert len(lines) == len(patterns), "\n".join(lines)
    for line, pattern in zip(lines, patterns, strict=True):
        assert re.fullmatch(pattern, line), f"{line}\n!~ {pattern}"


def test_offsets_and_transaction_log_decoders(broker_factory) -> None:
    b = broker_factory(SINGLE)
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in a.create_topics([NewTopic("dl", 2, 1)], operation_timeout=10).values():
        f.result(timeout=30)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "dumpgrp", "enable.auto.commit": False,
                  "client.id": "dumper"})
    c.subscribe(["dl"])
    deadline = time.monotonic() + 30
    while not c.assignment():
        c.poll(0.2)
        assert time.monotonic() < deadline
    c.commit(offsets=[TopicPartition("dl", 0, 5, metadata="m5"), TopicPartition("dl", 1, 7)], asynchronous=False)
    c.close()
    for f in a.delete_consumer_groups(["dumpgrp"], request_timeout=10).values():
        f.result(timeout=30)

    p = Producer({"bootstrap.servers": b.bootstrap, "transactional.id": "dumptx"})
    p.init_transactions(30)
    p.begin_transaction()
    p.produce("dl", b"v", partition=0)
    p.produce("dl", b"v", partition=1)
    p.commit_transaction(30)
    p.begin_transaction()
    p.produce("dl", b"w", partition=1)
    assert p.flush(30) == 0
    p.abort_transaction(30)

    # OffsetsMessageParser.prepareKey: {"type": key version, "data": *KeyJsonConverter.write}; prepareValue:
    # {"version": value version, "data": *ValueJsonConverter.write}; a tombstone's payload is "<DELETE>".
    # GroupMetadataValue v3 (GroupMetadataValue.json field order), its members' subscription and assignment
    # replaced by ConsumerProtocolSubscription/AssignmentJsonConverter.write (prepareGroupMetadataValue); bytes
    # (librdkafka's empty userData) as Jackson's base64, "".
    group_key = r'key: \{"type":"2","data":\{"group":"dumpgrp"\}\}'
    offset_key = r'key: \{{"type":"1","data":\{{"group":"dumpgrp","topic":"dl","partition":{}\}}\}}'
    subscription = r'\{"topics":\["dl"\],"userData":"","ownedPartitions":\[\],"generationId":-1,"rackId":""\}'
    assignment = r'\{"assignedPartitions":\[\{"topic":"dl","partitions":\[0,1\]\}\],"userData":""\}'
    _match(_record_lines(b.data_dir / "__consumer_offsets-0" / "00000000000000000000.log", "--offsets-decoder"), [
        _meta(0, 11, 213) + group_key + r' payload: \{"version":"3","data":\{"protocolType":"consumer",'
        rf'"generation":1,"protocol":"range","leader":"{MEMBER}","currentStateTimestamp":{TS},"members":\['
        rf'\{{"memberId":"{MEMBER}","groupInstanceId":null,"clientId":"dumper","clientHost":"/127.0.0.1",'
        rf'"rebalanceTimeout":300000,"sessionTimeout":45000,"subscription":{subscription},'
        rf'"assignment":{assignment}\}}\]\}}\}}',
        # OffsetCommitValue v3: offset, leaderEpoch, metadata, commitTimestamp (expireTimestamp is v1 only).
        # confluent-kafka sends the metadata string with its C terminator: Jackson escapes it as \u0000.
        _meta(1, 19, 27) + offset_key.format(0) + r' payload: \{"version":"3","data":\{"offset":5,'
        rf'"leaderEpoch":-1,"metadata":"m5\\u0000","commitTimestamp":{TS}\}}\}}',
        _meta(2, 19, 24) + offset_key.format(1) + r' payload: \{"version":"3","data":\{"offset":7,'
        rf'"leaderEpoch":-1,"metadata":"","commitTimestamp":{TS}\}}\}}',
        _meta(3, 11, 32) + group_key + r' payload: \{"version":"3","data":\{"protocolType":"consumer",'
        rf'"generation":2,"protocol":null,"leader":null,"currentStateTimestamp":{TS},"members":\[\]\}}\}}',
        # DeleteGroups: the offsets' and the group's tombstones
        _meta(4, 19, -1) + offset_key.format(0) + " payload: <DELETE>",
        _meta(5, 19, -1) + offset_key.format(1) + " payload: <DELETE>",
        _meta(6, 11, -1) + group_key + " payload: <DELETE>",
    ])

    # TransactionLog.formatRecordKeyAndValue; partitions in the order of TransactionMetadata's mutable.HashSet
    # (Scala 2.13: by bucket of TopicPartition.hashCode), an Empty transaction's always [] (readTxnRecordValue)
    def txn(offset: int, size: int, state: str, partitions: str) -> str:
        return _meta(offset, 10, size) + r"key: transaction_metadata::transactionalId=dumptx payload: " \
            rf"producerId:0,producerEpoch:0,state={state},partitions=\[{partitions}\]," \
            rf"txnLastUpdateTimestamp={TS},txnTimeoutMs=60000"

    _match(_record_lines(b.data_dir / "__transaction_state-0" / "00000000000000000000.log",
                         "--transaction-log-decoder"), [
        txn(0, 37, "Empty", ""), txn(1, 53, "Ongoing", "dl-1,dl-0"), txn(2, 53, "PrepareCommit", "dl-1,dl-0"),
        txn(3, 37, "CompleteCommit", ""), txn(4, 49, "Ongoing", "dl-1"), txn(5, 49, "PrepareAbort", "dl-1"),
        txn(6, 37, "CompleteAbort", ""),
    ])


def test_decoders_on_records_they_cannot_read() -> None:
    # OffsetsMessageParser.parse: CoordinatorLoader.UnknownRecordTypeException, then any other failure of
    # CoordinatorRecordSerde.readMessage ("Can't read version N of X" from the generated reader)
    assert parse_offsets_record(9, b"\x00\x63", None) == ("Unknown record type 99 at offset 9, skipping.", None)
    key = cr.encode_key(cr.OffsetCommitKey("g", "t", 0))
    assert parse_offsets_record(3, key, b"\x00\x07") == (
        "Error at offset 3, skipping. Could not read record with version 7 from value's buffer due to: Can't read "
        "version 7 of OffsetCommitValue.", None)
    # a non-consumer protocol type: member bytes stay base64
    value = cr.encode_group_value(cr.GroupMetadataValue("connect", 1, "p", "m", 5, (
        cr.MemberMetadata("m", None, "c", "/h", 10, 20, b"\x01\x02", b""),)))
    _key, payload = parse_offsets_record(0, cr.encode_key(cr.GroupMetadataKey("g")), value)
    assert '"subscription":"AQI=","assignment":""' in payload  # type: ignore[operator]
    # TransactionLog.readTxnRecordKey: an unknown key version prints no payload
    assert parse_txn_record(b"\x00\x05xx", b"") == ("unknown::version=5", None)
