"""Every broker's copy of the partition states: Brook's documented equivalent of Kafka's LeaderAndIsr and
UpdateMetadata requests in ZooKeeper mode.

Kafka's controller writes /brokers/topics/<t>/partitions/<p>/state ({"controller_epoch","leader","version",
"leader_epoch","isr"}) and then tells the brokers in LeaderAndIsr (the replicas) and UpdateMetadata (everyone).
Here every broker watches each state znode instead: a change fires on kazoo's thread, is parsed there and handed
to the event loop (`deliver`), where the cache changes and the replication layer makes the local replica leader or
follower. The znode's version is the partition epoch (Kafka's zkVersion), so a state older than one already
applied is ignored. Metadata, DescribeTopicPartitions and the leadership checks read this cache only; reads never
touch ZooKeeper."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from kazoo.client import KazooClient

from brook.errors import ErrorCode


class PartitionState(NamedTuple):
    leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    controller_epoch: int
    partition_epoch: int  # the state znode's version


def parse_state(data: bytes, version: int) -> PartitionState:
    d = json.loads(data)
    return PartitionState(int(d["leader"]), int(d["leader_epoch"]), tuple(int(r) for r in d["isr"]),
                          int(d["controller_epoch"]), version)


class PartitionStates:
    """The cache, fed by one data watch per partition of every topic (added as topics and partitions appear)."""

    def __init__(self, zk: KazooClient, deliver: Callable[[Callable[[], None]], None],
                 on_change: Callable[[tuple[str, int], PartitionState | None], None]) -> None:
        self.zk = zk
        self._deliver = deliver
        self._on_change = on_change
        self.states: dict[tuple[str, int], PartitionState] = {}
        self._watched: set[tuple[str, int]] = set()  # kazoo's thread and the loop's
        self._lock = threading.Lock()

    def get(self, topic: str, partition: int) -> PartitionState | None:
        return self.states.get((topic, partition))

    def watch(self, topic: str, partitions: int) -> None:
        """Watch the states of partitions 0..partitions-1 (those not yet watched). kazoo reads each once now."""
        for p in range(partitions):
            tp = (topic, p)
            with self._lock:
                if tp in self._watched:
                    continue
                self._watched.add(tp)
            self.zk.DataWatch(f"/brokers/topics/{topic}/partitions/{p}/state", self._watcher(tp))

    def forget(self, topic: str) -> None:
        """The topic is gone: its states leave the cache (their watches end when the znodes' deletion fires)."""
        for tp in [tp for tp in self.states if tp[0] == topic]:
            del self.states[tp]
        with self._lock:
            self._watched -= {tp for tp in self._watched if tp[0] == topic}

    def _watcher(self, tp: tuple[str, int]) -> Callable[[bytes | None, Any], bool | None]:
        seen = [False]

        def changed(data: bytes | None, stat: Any) -> bool | None:  # two arguments: kazoo passes no event then
            if data is None:
                if seen[0]:  # deleted with its topic: this watch ends (a topic created again gets a new one)
                    self._deliver(lambda: self._apply(tp, None))
                    return False
                return None  # not written yet: the controller writes it after the topic
            seen[0] = True
            state = parse_state(data, stat.version)
            self._deliver(lambda: self._apply(tp, state))
            return None

        return changed

    def _apply(self, tp: tuple[str, int], state: PartitionState | None) -> None:
        if state is None:
            if self.states.pop(tp, None) is not None:
                self._on_change(tp, None)
            return
        old = self.states.get(tp)
        if old is not None and old.partition_epoch >= state.partition_epoch:
            return  # already applied (an AlterPartition answer came first) or older
        self.states[tp] = state
        self._on_change(tp, state)


PartitionView = tuple[ErrorCode, int, int, tuple[int, ...], tuple[int, ...]]


def partition_view(state: PartitionState | None, replicas: tuple[int, ...], live: set[int]) -> PartitionView:
    """What Metadata and DescribeTopicPartitions say of a partition, as Kafka's ZkMetadataCache: (error, leader,
    leader epoch, ISR, offline replicas); a leader that is not live is LEADER_NOT_AVAILABLE with leader -1."""
    offline = tuple(r for r in replicas if r not in live)
    if state is None:
        return ErrorCode.leader_not_available, -1, -1, (), offline
    if state.leader not in live:
        return ErrorCode.leader_not_available, -1, state.leader_epoch, state.isr, offline
    return ErrorCode.none, state.leader, state.leader_epoch, state.isr, offline
