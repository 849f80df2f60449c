"""The controller, as Kafka 3.9's KafkaController in ZooKeeper mode: election through the ephemeral /controller
({"version":1,"brokerid":..,"timestamp":".."}) created in one transaction with the bump of /controller_epoch; every
broker watches /controller and stands for election when it goes. The active controller:
- gives each new partition its first state, /brokers/topics/<t>/partitions/<p>/state ({"controller_epoch":..,
  "leader":..,"version":1,"leader_epoch":0,"isr":[..]}), at failover and for each topic or partition added;
- elects leaders again when brokers go and return (unclean election only when the topic's or the broker's
  unclean.leader.election.enable says so);
- deletes topics named under /admin/delete_topics, and answers the requests leadership.py and reassignment.py
  serve (ControlledShutdown, ElectLeaders, reassignments).
Every write is fenced as KafkaZkClient fences it: one ZooKeeper transaction with a check of /controller_epoch's
version, so a controller that lost its epoch writes nothing (ControllerMovedException) and resigns. It resigns too
when /controller names another broker or its ZooKeeper session expires. Runs on kazoo's threads under one lock;
`deliver` hands what the broker reads (the active controller id) to its event loop."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError

from brook.config.broker import BrokerConfig

from . import elections
from .assignment import assign_replicas

__all__ = ["Controller", "ControllerMoved", "assign_replicas", "partition_state_json"]

log = logging.getLogger("kafka.controller.KafkaController")


class ControllerMoved(Exception):
    """Kafka's ControllerMovedException: /controller_epoch moved on, so this broker's write was refused."""


def partition_state_json(leader: int, leader_epoch: int, isr: Sequence[int], controller_epoch: int) -> bytes:
    return _json({"controller_epoch": controller_epoch, "leader": leader, "version": 1,
                  "leader_epoch": leader_epoch, "isr": list(isr)})


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class Controller:
    def __init__(self, zk: KazooClient, broker_id: int, config: BrokerConfig,
                 deliver: Callable[[Callable[[], None]], None]) -> None:
        self.zk = zk
        self.broker_id = broker_id
        self.config = config
        self._deliver = deliver
        self.active_id = -1  # read on the broker's thread
        self.epoch = 0  # this broker's controller epoch while it is the controller, else 0
        self.epoch_zk_version = -1  # /controller_epoch's version that fences every write
        self.lock = threading.RLock()
        self._watching = False  # the active controller's watches, set once per process
        self._watched_topics: set[str] = set()
        self.live: set[int] = set()  # the registered brokers the active controller last saw
        self.shutting_down: set[int] = set()  # brokers in controlled shutdown (Kafka's shuttingDownBrokerIds)
        self.listeners: list[Callable[[], None]] = []  # called (kazoo's thread) on becoming the controller

    @property
    def is_active(self) -> bool:
        return self.epoch != 0

    def start(self) -> None:
        self.zk.add_listener(self._session_state)
        self.zk.DataWatch("/controller", self._controller_changed)

    # -- election and resignation --------------------------------------------------------------------------
    def _session_state(self, state: str) -> None:
        if state == KazooState.LOST:  # the session expired: /controller went with it
            self.zk.handler.spawn(self.resign)

    def _controller_changed(self, data: bytes | None, stat: object) -> None:
        if data is None:
            self._elect()
            return
        active = int(json.loads(data)["brokerid"])
        if active != self.broker_id and self.is_active:
            self.resign()
        self._deliver(lambda: setattr(self, "active_id", active))

    def resign(self) -> None:
        """onControllerResignation: nothing more is written under the old epoch."""
        with self.lock:
            if not self.is_active:
                return
            log.info("[Controller id=%d] Resigned", self.broker_id)
            self.epoch, self.epoch_zk_version = 0, -1
            self.shutting_down.clear()
        self._deliver(lambda: setattr(self, "active_id", -1) if self.active_id == self.broker_id else None)

    def _elect(self) -> None:
        """KafkaController.elect: /controller and the next /controller_epoch in one transaction."""
        with self.lock:
            try:
                data, stat = self.zk.get("/controller_epoch")
            except NoNodeError:
                try:
                    self.zk.create("/controller_epoch", b"0")
                except NodeExistsError:
                    pass
                data, stat = self.zk.get("/controller_epoch")
            epoch = int(data) + 1
            t = self.zk.transaction()
            t.create("/controller", _json({"version": 1, "brokerid": self.broker_id,
                                           "timestamp": str(int(time.time() * 1000))}), ephemeral=True)
            t.set_data("/controller_epoch", str(epoch).encode(), version=stat.version)
            if any(isinstance(r, Exception) for r in t.commit()):
                return  # another broker won: its /controller fires our watch
            self.epoch, self.epoch_zk_version = epoch, stat.version + 1
            log.info("[Controller id=%d] %d successfully elected as the controller. Epoch incremented to %d and "
                     "epoch zk version is now %d", self.broker_id, self.broker_id, epoch, self.epoch_zk_version)
            self._deliver(lambda: setattr(self, "active_id", self.broker_id))
            self.live = {int(c) for c in self.children("/brokers/ids")}
            self.shutting_down.clear()
            try:
                self._initial_states()
                self.elect_offline()  # onControllerFailover: partitions whose leader is gone
            except ControllerMoved:
                return
            if not self._watching:  # kazoo's watches outlive a resignation: they check is_active
                self._watching = True
                self.zk.ChildrenWatch("/brokers/ids", self._brokers_changed)
                self.zk.ChildrenWatch("/brokers/topics", self._topics_changed)
                self.zk.ChildrenWatch("/admin/delete_topics", self._deletions_changed)
        for listener in self.listeners:
            listener()

    # -- fenced writes ---------------------------------------------------------------------------------------
    def write(self, ops: Sequence[tuple[Any, ...]]) -> list[object]:
        """One transaction: the check of /controller_epoch's version, then `ops` (("set", path, data, version),
        ("create", path, data), ("delete", path, version)). Returns the ops' results (an exception for a failed
        one); raises ControllerMoved, after resigning, when the epoch moved on."""
        if not self.is_active:
            raise ControllerMoved()
        t = self.zk.transaction()
        t.check("/controller_epoch", self.epoch_zk_version)
        for op in ops:
            if op[0] == "set":
                t.set_data(op[1], op[2], version=op[3])
            elif op[0] == "create":
                t.create(op[1], op[2])
            else:
                t.delete(op[1], version=op[2])
        results = t.commit()
        if isinstance(results[0], Exception):
            log.error("[Controller id=%d] Controller moved to another broker. Aborting controller writes",
                      self.broker_id)
            self.resign()
            raise ControllerMoved()
        return list(results[1:])

    def set_state(self, topic: str, p: int | str, leader: int, leader_epoch: int, isr: Sequence[int],
                  version: int) -> bool:
        """A partition state written conditionally on its znode's version; False when it changed meanwhile."""
        path = f"/brokers/topics/{topic}/partitions/{p}/state"
        (result,) = self.write([("set", path, partition_state_json(leader, leader_epoch, isr, self.epoch), version)])
        if isinstance(result, (BadVersionError, NoNodeError)):
            log.warning("[Controller id=%d] The state of %s-%s changed while electing its leader", self.broker_id,
                        topic, p)
            return False
        return True

    # -- reading ZooKeeper -----------------------------------------------------------------------------------
    def children(self, path: str) -> list[str]:
        try:
            return self.zk.get_children(path)
        except NoNodeError:
            return []

    def topic(self, name: str) -> tuple[dict[str, Any], Any] | None:
        """The topic znode's JSON and stat (assignment, adding_replicas, removing_replicas)."""
        try:
            data, stat = self.zk.get(f"/brokers/topics/{name}")
        except NoNodeError:
            return None
        return json.loads(data), stat

    def state(self, topic: str, p: int | str) -> tuple[dict[str, Any], Any] | None:
        try:
            data, stat = self.zk.get(f"/brokers/topics/{topic}/partitions/{p}/state")
        except NoNodeError:
            return None
        return json.loads(data), stat

    def partitions(self) -> Iterator[tuple[str, int, list[int]]]:
        """(topic, partition, replicas) of every partition, topics queued for deletion left out."""
        deleting = set(self.children("/admin/delete_topics"))
        for name in sorted(self.children("/brokers/topics")):
            found = self.topic(name) if name not in deleting else None
            if found is not None:
                for p, replicas in sorted(found[0]["partitions"].items(), key=lambda kv: int(kv[0])):
                    yield name, int(p), replicas

    def eligible(self) -> set[int]:
        """Kafka's liveBrokerIds: registered and not shutting down."""
        return self.live - self.shutting_down

    def unclean_enabled(self, topic: str) -> bool:
        """The topic's unclean.leader.election.enable, else this (controller) broker's."""
        try:
            data, _ = self.zk.get(f"/config/topics/{topic}")
            value = json.loads(data).get("config", {}).get("unclean.leader.election.enable")
        except (NoNodeError, ValueError):
            value = None
        if value is not None:
            return str(value).strip().lower() == "true"
        return bool(self.config.topic_default("unclean.leader.election.enable")[0])

    # -- brokers that go and come back -------------------------------------------------------------------------
    def _brokers_changed(self, children: list[str]) -> None:
        if not self.is_active:
            return
        live = {int(c) for c in children}
        with self.lock:
            dead, born = self.live - live, live - self.live
            self.live = live
            self.shutting_down &= live
            if not dead and not born:
                return
            log.info("[Controller id=%d] Newly added brokers: %s, deleted brokers: %s, all live brokers: %s",
                     self.broker_id, _ids(born), _ids(dead), _ids(live))
            try:
                if born:
                    self._initial_states()
                self.elect_offline()
            except ControllerMoved:
                pass

    def elect_offline(self) -> None:
        """onBrokerFailure / onBrokerStartup / failover: a partition whose leader is not live gets a leader by
        the offline election, or none (-1, its last ISR kept) until an ISR replica returns (or, unclean election
        enabled, any replica). Brokers that are not live leave the ISRs of the partitions they do not lead (a
        last ISR member stays). Each change bumps the leader epoch."""
        live, online = self.eligible(), self.live  # a broker in controlled shutdown still serves what it leads
        for topic, p, replicas in list(self.partitions()):
            found = self.state(topic, p)
            if found is None:
                continue
            state, stat = found
            leader, isr = state["leader"], state["isr"]
            if leader not in online:
                elected = elections.offline(replicas, isr, live, self.unclean_enabled(topic))
                if elected is None:
                    if leader == -1:
                        continue
                    new_leader, new_isr = -1, [r for r in isr if r in live] or isr
                else:
                    new_leader, new_isr = elected
                    if new_leader not in isr:
                        log.warning("[Controller id=%d] Unclean leader election. Partition %s-%d has been "
                                    "assigned leader %d from deposed leader %d.", self.broker_id, topic, p,
                                    new_leader, leader)
            elif len(isr) > 1 and any(r not in online for r in isr):
                new_leader, new_isr = leader, [r for r in isr if r in online]
            else:
                continue
            self.set_state(topic, p, new_leader, state["leader_epoch"] + 1, new_isr, stat.version)

    # -- topics: first partition states, deletion ------------------------------------------------------------
    def _initial_states(self) -> None:
        for name in self.children("/brokers/topics"):
            found = self.topic(name)
            if found is not None:
                self._create_states(name, found[0]["partitions"])

    def _topics_changed(self, children: list[str]) -> None:
        with self.lock:
            new = [c for c in children if c not in self._watched_topics]
            self._watched_topics.update(new)
        for name in new:
            self.zk.DataWatch(f"/brokers/topics/{name}", self._topic_watch(name))

    def _topic_watch(self, name: str) -> Callable[[bytes | None, object], bool | None]:
        return lambda data, stat: self._topic_data(name, data)

    def _topic_data(self, name: str, data: bytes | None) -> bool | None:
        if data is None:
            with self.lock:
                self._watched_topics.discard(name)
            return False
        if self.is_active:
            with self.lock:
                try:
                    self._create_states(name, json.loads(data)["partitions"])
                except ControllerMoved:
                    pass
        return None

    def _create_states(self, name: str, partitions: dict[str, list[int]]) -> None:
        """NewPartition -> OnlinePartition: the first live replica leads, the live replicas are the ISR; with no
        live replica the partition has no leader until one returns."""
        live = self.eligible()
        for p, replicas in sorted(partitions.items(), key=lambda kv: int(kv[0])):
            path = f"/brokers/topics/{name}/partitions/{p}/state"
            if self.zk.exists(path):
                continue
            self.zk.ensure_path(f"/brokers/topics/{name}/partitions/{p}")
            isr = [r for r in replicas if r in live]
            if isr:  # else it stays a NewPartition until a replica registers
                self.write([("create", path, partition_state_json(isr[0], 0, isr, self.epoch))])

    def _deletions_changed(self, children: list[str]) -> None:
        if not self.is_active or not children:
            return
        with self.lock:
            for name in children:
                try:
                    self.delete_topic(name)
                except ControllerMoved:
                    return

    def delete_topic(self, name: str) -> None:
        """TopicDeletionManager, its last step at once: the topic's znodes, its config and its deletion mark go
        in one fenced transaction; every broker deletes its replicas' logs when the topic znode goes."""
        mark = f"/admin/delete_topics/{name}"
        if not self.config.get_bool("delete.topic.enable"):
            self.write([("delete", mark, -1)])
            return
        ops: list[tuple[Any, ...]] = []
        base = f"/brokers/topics/{name}"
        for p in self.children(f"{base}/partitions"):
            ops += [("delete", f"{base}/partitions/{p}/{c}", -1) for c in self.children(f"{base}/partitions/{p}")]
            ops.append(("delete", f"{base}/partitions/{p}", -1))
        if self.zk.exists(f"{base}/partitions"):
            ops.append(("delete", f"{base}/partitions", -1))
        if self.zk.exists(base):
            ops.append(("delete", base, -1))
        if self.zk.exists(f"/config/topics/{name}"):
            ops.append(("delete", f"/config/topics/{name}", -1))
        ops.append(("delete", mark, -1))
        results = self.write(ops)
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            log.warning("[Controller id=%d] Deletion of topic %s failed (%s), retried on the next change",
                        self.broker_id, name, failed[0])
        else:
            log.info("[Controller id=%d] Deletion of topic %s successfully completed", self.broker_id, name)


def _ids(ids: set[int]) -> str:
    return ",".join(map(str, sorted(ids)))
