"""The controller's first duties, as Kafka 3.9's KafkaController in ZooKeeper mode: election through the ephemeral
/controller ({"version":1,"brokerid":..,"timestamp":".."}) created in one transaction with the bump of
/controller_epoch (a plain integer); every broker watches /controller and stands for election when it goes.
The controller gives each new partition its first state, /brokers/topics/<t>/partitions/<p>/state
({"controller_epoch":..,"leader":..,"version":1,"leader_epoch":0,"isr":[..]}: the first live replica leads, the
live replicas are the ISR), at failover for partitions that have none and then for each topic or partition added;
and it elects leaders again from the ISR when brokers go and return (unclean election off).

Also AdminUtils.assignReplicasToBrokers without racks, what CreateTopics and CreatePartitions use on any broker."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError

from brook.errors import ErrorCode, KafkaError

log = logging.getLogger("kafka.controller.KafkaController")


def assign_replicas(partitions: int, replication_factor: int, brokers: Sequence[int], first_partition: int = 0,
                    rng: random.Random | None = None) -> list[list[int]]:
    """AdminUtils.assignReplicasToBrokersRackUnaware: replicas spread round-robin from a random start, the
    followers shifted by a random amount that grows each time the partitions wrap around the brokers."""
    ids = sorted(brokers)
    if replication_factor > len(ids):
        raise KafkaError(ErrorCode.invalid_replication_factor,
                         f"Replication factor: {replication_factor} larger than available brokers: {len(ids)}.")
    rng = rng or random.Random()
    n = len(ids)
    start = rng.randrange(n)
    shift = rng.randrange(n)
    assignment = []
    for p in range(first_partition, first_partition + partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = (p + start) % n
        replicas = [ids[first]]
        replicas += [ids[(first + 1 + (shift + j) % (n - 1)) % n] for j in range(replication_factor - 1)]
        assignment.append(replicas)
    return assignment


def partition_state_json(leader: int, leader_epoch: int, isr: Sequence[int], controller_epoch: int) -> bytes:
    return json.dumps({"controller_epoch": controller_epoch, "leader": leader, "version": 1,
                       "leader_epoch": leader_epoch, "isr": list(isr)}, separators=(",", ":")).encode()


class Controller:
    """Election on every broker; partition states on the elected one. Runs on kazoo's thread; `deliver` hands
    the changes the broker reads (the active controller id) to its event loop."""

    def __init__(self, zk: KazooClient, broker_id: int, live_brokers: Callable[[], list[int]],
                 deliver: Callable[[Callable[[], None]], None]) -> None:
        self.zk = zk
        self.broker_id = broker_id
        self._live_brokers = live_brokers
        self._deliver = deliver
        self.active_id = -1  # read on the broker's thread
        self.epoch = 0  # this broker's controller epoch while it is the controller
        self._lock = threading.RLock()
        self._watched_topics: set[str] = set()
        self._live: set[int] = set()  # the live brokers the active controller last saw

    @property
    def is_active(self) -> bool:
        return self.active_id == self.broker_id

    def start(self) -> None:
        self.zk.DataWatch("/controller", self._controller_changed)

    def _controller_changed(self, data: bytes | None, stat: object) -> None:
        if data is None:
            self._elect()
            return
        active = int(json.loads(data)["brokerid"])
        self._deliver(lambda: setattr(self, "active_id", active))

    def _elect(self) -> None:
        """KafkaController.elect: /controller and the next /controller_epoch in one transaction."""
        with self._lock:
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
            t.create("/controller", json.dumps({"version": 1, "brokerid": self.broker_id,
                                                "timestamp": str(int(time.time() * 1000))},
                                               separators=(",", ":")).encode(), ephemeral=True)
            t.set_data("/controller_epoch", str(epoch).encode(), version=stat.version)
            results = t.commit()
            if any(isinstance(r, Exception) for r in results):
                return  # another broker won: its /controller fires our watch
            self.epoch = epoch
            log.info("[Controller id=%d] %d successfully elected as the controller. Epoch incremented to %d",
                     self.broker_id, self.broker_id, epoch)
            self._deliver(lambda: setattr(self, "active_id", self.broker_id))
            self._live = set(self._live_brokers())
            self._elect_leaders(self._live, set())  # onControllerFailover: partitions whose leader is gone
            self.zk.ChildrenWatch("/brokers/ids", self._brokers_changed)
            self.zk.ChildrenWatch("/brokers/topics", self._topics_changed)

    # -- the active controller: brokers that go and come back ------------------------------------------------
    def _brokers_changed(self, children: list[str]) -> None:
        live = {int(c) for c in children}
        with self._lock:
            dead, born = self._live - live, live - self._live
            self._live = live
            if not dead and not born:
                return
            log.info("[Controller id=%d] Newly added brokers: %s, deleted brokers: %s, all live brokers: %s",
                     self.broker_id, _ids(born), _ids(dead), _ids(live))
            self._elect_leaders(live, dead)

    def _elect_leaders(self, live: set[int], dead: set[int]) -> None:
        """onBrokerFailure / onBrokerStartup / failover, unclean election off: a partition whose leader is not
        live gets the first live ISR replica of its assignment, the ISR cut to the live ones; with none, no leader
        (-1, its last ISR kept) until an ISR replica returns. A failed broker leaves the ISRs of the partitions
        it did not lead (a last ISR member stays). Each change bumps the leader epoch; the state znode is written
        conditionally on its version."""
        for topic in self._children("/brokers/topics"):
            try:
                assignment = json.loads(self.zk.get(f"/brokers/topics/{topic}")[0])["partitions"]
            except NoNodeError:
                continue
            for p, replicas in assignment.items():
                path = f"/brokers/topics/{topic}/partitions/{p}/state"
                try:
                    data, stat = self.zk.get(path)
                except NoNodeError:
                    continue
                state = json.loads(data)
                leader, isr = state["leader"], state["isr"]
                live_isr = [r for r in isr if r in live]
                if leader not in live:
                    if not live_isr and leader == -1:
                        continue
                    leader = next((r for r in replicas if r in live_isr), -1)
                    isr = live_isr or isr
                elif dead & set(isr) and len(isr) > 1:
                    isr = [r for r in isr if r not in dead] or isr
                else:
                    continue
                try:
                    self.zk.set(path, partition_state_json(leader, state["leader_epoch"] + 1, isr, self.epoch),
                                version=stat.version)
                except (BadVersionError, NoNodeError):
                    log.warning("[Controller id=%d] The state of %s-%s changed while electing its leader",
                                self.broker_id, topic, p)

    def _children(self, path: str) -> list[str]:
        try:
            return self.zk.get_children(path)
        except NoNodeError:
            return []

    # -- the active controller: first partition states ---------------------------------------------------------
    def _topics_changed(self, children: list[str]) -> bool | None:
        if self.epoch == 0:
            return False
        with self._lock:
            new = [c for c in children if c not in self._watched_topics]
            self._watched_topics.update(new)
        for name in new:
            self.zk.DataWatch(f"/brokers/topics/{name}", self._topic_watch(name))
        return None

    def _topic_watch(self, name: str) -> Callable[[bytes | None, object], bool | None]:
        return lambda data, stat: self._topic_data(name, data)

    def _topic_data(self, name: str, data: bytes | None) -> bool | None:
        if data is None:
            with self._lock:
                self._watched_topics.discard(name)
            return False
        partitions = json.loads(data)["partitions"]
        live = set(self._live_brokers())
        for p, replicas in sorted(partitions.items(), key=lambda kv: int(kv[0])):
            path = f"/brokers/topics/{name}/partitions/{p}/state"
            if self.zk.exists(path):
                continue
            isr = [r for r in replicas if r in live]
            leader = isr[0] if isr else -1  # no live replica: offline until one returns
            try:
                self.zk.create(path, partition_state_json(leader, 0, isr, self.epoch), makepath=True)
            except NodeExistsError:
                pass
        return None


def _ids(ids: set[int]) -> str:
    return ",".join(map(str, sorted(ids)))
