"""kafka-transactions find-hanging (TransactionsCommand.FindHangingTransactionsCommand, Kafka 3.9): open
transactions older than --max-transaction-timeout whose producer has no transactional id, or whose coordinator no
longer counts the partition in the transaction. Rows come in the order of the Java HashMaps Kafka builds."""

from __future__ import annotations

import time
from typing import Any

from brook.cli.java_collections import hash_order, long_hash, string_key_order, topic_partition_hash
from brook.cli.transactions_admin import TopicPartition, pretty_print_table, print_error_and_exit

MAX_BATCH_SIZE = 500
HEADERS = ["Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset", "LastTimestamp",
           "Duration(min)"]


def _tp_order(tps: list[TopicPartition]) -> list[TopicPartition]:
    return hash_order(tps, lambda tp: topic_partition_hash(tp.topic, tp.partition))


def _optional(broker: int | None) -> str:
    return "Optional.empty" if broker is None else f"Optional[{broker}]"


def find_hanging(admin: Any, ns: dict[str, Any]) -> None:
    broker, topic, partition = ns["broker_id"], ns["topic"], ns["partition"]
    if topic is None and broker is None:
        print_error_and_exit("The `find-hanging` command requires either --topic or --broker-id to limit the scope of "
                             "the search")
    if partition is not None and topic is None:
        print_error_and_exit("The --partition argument requires --topic to be provided")
    max_timeout_ms = ns["max_transaction_timeout"] * 60_000
    tps = partitions_to_search(admin, topic, partition, broker)
    candidates = candidate_open_transactions(admin, broker, max_timeout_ms, tps)
    if not candidates:
        print_hanging([])
        return
    by_producer: dict[int, list[tuple[TopicPartition, Any]]] = {}
    for tp, state in candidates:
        by_producer.setdefault(int(state.producer_id), []).append((tp, state))
    by_producer = {pid: by_producer[pid] for pid in hash_order(by_producer, long_hash)}  # a HashMap<Long, ...>
    txn_ids = transactional_ids(admin, list(by_producer))
    descriptions = describe_transactions(admin, [txn_ids[pid] for pid in hash_order(txn_ids, long_hash)])
    hanging = []
    for pid, open_txns in by_producer.items():
        txn_id = txn_ids.get(pid)
        description = descriptions.get(txn_id) if txn_id is not None else None
        if description is None:  # no transactional id, or the coordinator does not know it: hanging
            hanging += open_txns
            continue
        in_txn = {TopicPartition(t.topic, int(p)) for t in description.topics for p in t.partitions}
        hanging += [(tp, s) for tp, s in open_txns if tp not in in_txn]  # no marker will ever come for these
    print_hanging(hanging)


def partitions_to_search(admin: Any, topic: str | None, partition: int | None,
                         broker: int | None) -> list[TopicPartition]:
    if topic is not None and partition is not None:
        return [TopicPartition(topic, partition)]
    admin.new_call()  # listTopics, then describeTopics: Admin calls of their own
    if topic is not None:
        topics = [topic]
    else:
        try:
            topics = string_key_order(admin.metadata("listTopics").topics)  # listInternal(true): all of them
        except Exception as e:
            print_error_and_exit("Failed to list topics", e)
    out: list[TopicPartition] = []
    for i in range(0, len(topics), MAX_BATCH_SIZE):
        batch = topics[i:i + MAX_BATCH_SIZE]
        try:
            known = admin.metadata("describeTopics").topics
            for name in batch:
                if name not in known or known[name].error is not None:
                    from brook.cli.clients import error_for_code

                    code = known[name].error.code() if name in known else 3
                    raise error_for_code(code)
        except Exception as e:
            print_error_and_exit(f"Failed to describe {len(batch)} topics", e)
        for name in string_key_order(batch):  # allTopicNames(): a HashMap
            for p in sorted(known[name].partitions.values(), key=lambda p: p.id):
                if broker is None or broker in p.replicas:
                    out.append(TopicPartition(name, int(p.id)))
    return out


def candidate_open_transactions(admin: Any, broker: int | None, max_timeout_ms: int,
                                tps: list[TopicPartition]) -> list[tuple[TopicPartition, Any]]:
    out = []
    for i in range(0, len(tps), MAX_BATCH_SIZE):
        batch = tps[i:i + MAX_BATCH_SIZE]
        try:
            result = admin.describe_producers(batch, broker)
        except Exception as e:
            print_error_and_exit(f"Failed to describe producers for {len(batch)} partitions on broker "
                                 f"{_optional(broker)}", e)
        now = int(time.time() * 1000)
        for tp in _tp_order(list(result)):
            for state in result[tp]:
                if state.current_txn_start_offset >= 0 and now - state.last_timestamp > max_timeout_ms:
                    out.append((tp, state))
    return out


def transactional_ids(admin: Any, producer_ids: list[int]) -> dict[int, str]:
    try:
        listings = admin.list_transactions(producer_ids=tuple(producer_ids))
    except Exception as e:
        print_error_and_exit(f"Failed to list transactions for {len(producer_ids)} producers", e)
    wanted = set(producer_ids)
    return {int(t.producer_id): t.transactional_id for ts in listings.values() for t in ts
            if int(t.producer_id) in wanted}


def describe_transactions(admin: Any, txn_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for txn_id in txn_ids:
        try:
            out[txn_id] = admin.describe_transaction(txn_id)[1]
        except Exception as e:
            if getattr(e, "java_class", "").endswith(".TransactionalIdNotFoundException"):
                out[txn_id] = None
                continue
            print_error_and_exit(f"Failed to describe {len(txn_ids)} transactions", e)
    return out


def print_hanging(hanging: list[tuple[TopicPartition, Any]]) -> None:
    now = int(time.time() * 1000)
    rows = [[tp.topic, str(tp.partition), str(s.producer_id), str(s.producer_epoch),
             str(s.coordinator_epoch if s.coordinator_epoch >= 0 else -1), str(s.current_txn_start_offset),
             str(s.last_timestamp), str((now - s.last_timestamp) // 60_000)] for tp, s in hanging]
    pretty_print_table(HEADERS, rows)
