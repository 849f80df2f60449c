"""Partition reassignment on the active controller, as KafkaController.onPartitionReassignment (KIP-455) in
ZooKeeper mode. The topic znode carries an ongoing reassignment: its partition's replicas are the target
followed by the original replicas not in it, adding_replicas the target's new ones, removing_replicas the
originals that go. The reassignment completes when every target replica is in the ISR (the replicas catch up
through replication; the controller watches the partition's state znode): a leader from the target when the old
one goes, the removed replicas out of the ISR, and the assignment becomes the target. Requests come from
AlterPartitionReassignments (cancel: no target) and /admin/reassign_partitions
({"version":1,"partitions":[{"topic":..,"partition":..,"replicas":[..]}]}), which loses each partition as it
completes and goes when empty."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kazoo.exceptions import BadVersionError, NoNodeError

from brook.errors import ErrorCode

from . import elections
from .controller import Controller, ControllerMoved

log = logging.getLogger("kafka.controller.KafkaController")

TopicPartition = tuple[str, int]
Result = tuple[ErrorCode, str | None]
ZK_REASSIGN = "/admin/reassign_partitions"


def _scala_list(replicas: Iterable[int]) -> str:
    return f"List({', '.join(map(str, replicas))})"


class Reassignments:
    def __init__(self, c: Controller) -> None:
        self.c = c
        self._watched: set[TopicPartition] = set()
        self._watching_znode = False
        c.listeners.append(self._became_controller)

    # -- requests ------------------------------------------------------------------------------------------
    def alter(self, requests: Mapping[TopicPartition, Sequence[int] | None]) -> dict[TopicPartition, Result]:
        c = self.c
        with c.lock:
            if not c.is_active:
                return dict.fromkeys(requests, (ErrorCode.not_controller, None))
            try:
                return {tp: self._alter_one(tp, target) for tp, target in requests.items()}
            except ControllerMoved:
                return dict.fromkeys(requests, (ErrorCode.not_controller, None))

    def ongoing(self, partitions: Iterable[TopicPartition] | None) -> dict[TopicPartition, tuple[list[int], ...]]:
        """ListPartitionReassignments: (replicas, adding, removing) of each ongoing reassignment asked for."""
        c = self.c
        wanted = None if partitions is None else set(partitions)
        out: dict[TopicPartition, tuple[list[int], ...]] = {}
        for name in sorted(c.children("/brokers/topics")):
            found = c.topic(name)
            if found is None:
                continue
            data = found[0]
            adding, removing = data.get("adding_replicas", {}), data.get("removing_replicas", {})
            for p in sorted({*adding, *removing}, key=int):
                tp = (name, int(p))
                if wanted is None or tp in wanted:
                    out[tp] = (data["partitions"][p], adding.get(p, []), removing.get(p, []))
        return out

    def _alter_one(self, tp: TopicPartition, target: Sequence[int] | None) -> Result:
        c = self.c
        topic, p = tp
        found = c.topic(topic)
        if found is None or str(p) not in found[0]["partitions"] or c.zk.exists(f"/admin/delete_topics/{topic}"):
            return ErrorCode.unknown_topic_or_partition, "The partition does not exist."
        data, stat = found
        key = str(p)
        adding = data.get("adding_replicas", {}).get(key, [])
        original = [r for r in data["partitions"][key] if r not in adding]
        if target is None:  # cancel: back to the original replicas
            if not adding and not data.get("removing_replicas", {}).get(key):
                return ErrorCode.no_reassignment_in_progress, None
            target = original
        target = list(target)
        error = self._validate(target, original)
        if error is not None:
            return error
        full = target + [r for r in original if r not in target]
        new_adding = [r for r in target if r not in original]
        new_removing = [r for r in original if r not in target]
        log.info("[Controller id=%d] Handling reassignment of partition %s-%d to new replicas %s", c.broker_id,
                 topic, p, ",".join(map(str, target)))
        if not self._write_assignment(topic, data, stat, key, full, new_adding, new_removing):
            return ErrorCode.unknown_topic_or_partition, "The partition does not exist."
        state = c.state(topic, p)
        if state is not None:  # U2: a new leader epoch, so the replicas learn of the new replica set
            s, sstat = state
            c.set_state(topic, p, s["leader"], s["leader_epoch"] + 1, s["isr"], sstat.version)
        self._maybe_complete(topic, p)
        return ErrorCode.none, None

    def _validate(self, target: list[int], original: list[int]) -> Result | None:
        if not target:
            return ErrorCode.invalid_replica_assignment, "Empty replica list specified in partition reassignment."
        if len(set(target)) != len(target):
            return (ErrorCode.invalid_replica_assignment,
                    f"Duplicate replica ids in partition reassignment replica list: {_scala_list(target)}")
        if any(r < 0 for r in target):
            return ErrorCode.invalid_replica_assignment, f"Invalid broker id in replica list: {_scala_list(target)}"
        new = [r for r in target if r not in original]
        if not set(new) <= self.c.eligible():
            return (ErrorCode.invalid_replica_assignment, "Replica assignment has brokers that are not alive. "
                    f"Replica list: {_scala_list(new)}, live broker list: "
                    f"Set({', '.join(map(str, sorted(self.c.eligible())))})")
        return None

    def _write_assignment(self, topic: str, data: dict[str, Any], stat: Any, key: str, replicas: list[int],
                          adding: list[int], removing: list[int]) -> bool:
        data = {**data, "partitions": {**data["partitions"], key: replicas},
                "adding_replicas": _with(data.get("adding_replicas", {}), key, adding),
                "removing_replicas": _with(data.get("removing_replicas", {}), key, removing)}
        (result,) = self.c.write([("set", f"/brokers/topics/{topic}",
                                   json.dumps(data, separators=(",", ":")).encode(), stat.version)])
        return not isinstance(result, Exception)

    # -- completion --------------------------------------------------------------------------------------------
    def _maybe_complete(self, topic: str, p: int) -> None:
        """isReassignmentComplete, then the last steps; until then, a watch on the partition's state."""
        c = self.c
        found, state = c.topic(topic), c.state(topic, p)
        if found is None or state is None:
            return
        data, stat = found
        key = str(p)
        adding = data.get("adding_replicas", {}).get(key)
        removing = data.get("removing_replicas", {}).get(key)
        if adding is None and removing is None:
            return
        target = [r for r in data["partitions"][key] if r not in (removing or [])]
        s, sstat = state
        if not set(target) <= set(s["isr"]):
            self._watch(topic, p)
            return
        live = c.eligible()
        isr = [r for r in s["isr"] if r in target]
        leader = s["leader"]
        if leader not in target or leader not in live:  # B3: a leader from the target replicas
            elected = elections.reassignment(target, isr, live)
            leader = elected[0] if elected is not None else -1
        if not c.set_state(topic, p, leader, s["leader_epoch"] + 1, isr, sstat.version):
            return  # the state moved on: its watch brings us back
        if not self._write_assignment(topic, data, stat, key, target, [], []):
            return
        self._remove_from_zk_request(topic, p)
        log.info("[Controller id=%d] Completed reassignment of partition %s-%d to %s", c.broker_id, topic, p,
                 ",".join(map(str, target)))

    def _watch(self, topic: str, p: int) -> None:
        if (topic, p) in self._watched:
            return
        self._watched.add((topic, p))

        def changed(data: bytes | None, stat: object) -> bool | None:
            if data is None:
                self._watched.discard((topic, p))
                return False
            if self.c.is_active:
                with self.c.lock:
                    try:
                        self._maybe_complete(topic, p)
                    except ControllerMoved:
                        pass
            still = self.c.topic(topic)
            if still is None or str(p) not in still[0].get("adding_replicas", {}) and \
                    str(p) not in still[0].get("removing_replicas", {}):
                self._watched.discard((topic, p))
                return False
            return None

        self.c.zk.DataWatch(f"/brokers/topics/{topic}/partitions/{p}/state", changed)

    # -- /admin/reassign_partitions and failover ---------------------------------------------------------------
    def _became_controller(self) -> None:
        """initializePartitionReassignments: ongoing ones resume; the znode's requests start."""
        c = self.c
        with c.lock:
            try:
                for topic, p in self.ongoing(None):
                    self._maybe_complete(topic, p)
            except ControllerMoved:
                return
        if not self._watching_znode:  # fires now with the znode's data, then on each change
            self._watching_znode = True
            c.zk.DataWatch(ZK_REASSIGN, lambda data, stat: self._zk_request(data))
        else:
            try:
                self._zk_request(c.zk.get(ZK_REASSIGN)[0])
            except NoNodeError:
                pass

    def _zk_request(self, data: bytes | None) -> None:
        if data is None or not self.c.is_active:
            return
        try:
            entries = json.loads(data)["partitions"]
            requests = {(str(e["topic"]), int(e["partition"])): [int(r) for r in e["replicas"]] for e in entries}
        except (ValueError, KeyError, TypeError):
            log.error("[Controller id=%d] Ignoring an invalid %s", self.c.broker_id, ZK_REASSIGN)
            requests = {}
        for tp, (code, message) in self.alter(requests).items():
            if code != ErrorCode.none:
                log.warning("[Controller id=%d] Reassignment of %s-%d from %s failed: %s", self.c.broker_id, *tp,
                            ZK_REASSIGN, message or code.name)
                self._remove_from_zk_request(*tp)

    def _remove_from_zk_request(self, topic: str, p: int) -> None:
        """removePartitionsFromZkReassignment: the znode keeps the partitions still moving, or goes."""
        try:
            data, stat = self.c.zk.get(ZK_REASSIGN)
        except NoNodeError:
            return
        try:
            entries = json.loads(data)["partitions"]
        except (ValueError, KeyError):
            entries = []
        rest = [e for e in entries if (e.get("topic"), e.get("partition")) != (topic, p)]
        if len(rest) == len(entries) and entries:
            return
        try:
            if rest:
                self.c.write([("set", ZK_REASSIGN, json.dumps({"version": 1, "partitions": rest}).encode(),
                               stat.version)])
            else:
                self.c.write([("delete", ZK_REASSIGN, stat.version)])
        except BadVersionError:
            pass


def _with(entries: Mapping[str, list[int]], key: str, replicas: list[int]) -> dict[str, list[int]]:
    out = {k: v for k, v in entries.items() if k != key}
    if replicas:
        out[key] = replicas
    return out
