"""The active controller's leadership changes on request, as KafkaController does them in ZooKeeper mode:
controlled shutdown (doControlledShutdown), ElectLeaders (processReplicaLeaderElection: PREFERRED and UNCLEAN),
/admin/preferred_replica_election and the automatic leader rebalance (checkAndTriggerAutoLeaderRebalance every
leader.imbalance.check.interval.seconds, first 5 s after failover). Each runs on a thread of its own (a request's
executor, kazoo's, the rebalance thread) under the controller's lock, and writes through its fenced writes."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence

from kazoo.exceptions import NoNodeError

from brook.errors import ErrorCode

from . import elections
from .controller import Controller, ControllerMoved

log = logging.getLogger("kafka.controller.KafkaController")

PREFERRED, UNCLEAN = 0, 1  # ElectionType
TopicPartition = tuple[str, int]
Result = tuple[ErrorCode, str | None]
PREFERRED_ELECTION = "/admin/preferred_replica_election"


def _assignments(c: Controller) -> dict[TopicPartition, list[int]]:
    return {(t, p): r for t, p, r in c.partitions()}


def controlled_shutdown(c: Controller, broker_id: int, broker_epoch: int) -> tuple[ErrorCode, list[TopicPartition]]:
    """Leadership of the broker's replicated partitions moves to another live ISR replica and the broker leaves
    the ISRs it is in; the answer names the partitions it still leads (none unless no other replica could)."""
    with c.lock:
        if not c.is_active:
            return ErrorCode.not_controller, []
        stat = c.zk.exists(f"/brokers/ids/{broker_id}")
        if stat is None:
            return ErrorCode.broker_not_available, []
        if broker_epoch != -1 and broker_epoch < stat.czxid:
            return ErrorCode.stale_broker_epoch, []
        log.info("[Controller id=%d] Shutting down broker %d", c.broker_id, broker_id)
        c.shutting_down.add(broker_id)
        live = c.live | {broker_id}
        try:
            for (topic, p), replicas in _assignments(c).items():
                if len(replicas) < 2 or broker_id not in replicas:
                    continue
                found = c.state(topic, p)
                if found is None or found[0]["leader"] == -1:
                    continue
                state, stat = found
                if state["leader"] == broker_id:
                    elected = elections.controlled_shutdown(replicas, state["isr"], live, c.shutting_down)
                    if elected is not None:
                        c.set_state(topic, p, elected[0], state["leader_epoch"] + 1, elected[1], stat.version)
                elif broker_id in state["isr"] and len(state["isr"]) > 1:  # OfflineReplica: out of the ISR
                    isr = [r for r in state["isr"] if r != broker_id]
                    c.set_state(topic, p, state["leader"], state["leader_epoch"] + 1, isr, stat.version)
            remaining = [(t, p) for (t, p), replicas in _assignments(c).items() if len(replicas) > 1
                         and (s := c.state(t, p)) is not None and s[0]["leader"] == broker_id]
        except ControllerMoved:
            return ErrorCode.not_controller, []
        return ErrorCode.none, remaining


def elect_leaders(c: Controller, election_type: int, partitions: Iterable[TopicPartition] | None
                  ) -> dict[TopicPartition, Result]:
    """ElectLeaders: each partition's result (NONE when a new leader was elected)."""
    with c.lock:
        assignments = _assignments(c)
        wanted = sorted(assignments) if partitions is None else list(dict.fromkeys(partitions))
        if not c.is_active:
            return dict.fromkeys(wanted, (ErrorCode.not_controller, None))
        try:
            return {tp: _elect_one(c, election_type, tp, assignments.get(tp)) for tp in wanted}
        except ControllerMoved:
            return dict.fromkeys(wanted, (ErrorCode.not_controller, None))


def _elect_one(c: Controller, election_type: int, tp: TopicPartition, replicas: Sequence[int] | None) -> Result:
    topic, p = tp
    if replicas is None:
        deleting = c.zk.exists(f"/admin/delete_topics/{topic}") is not None
        if deleting:
            return ErrorCode.invalid_topic_exception, "The topic is being deleted"
        return ErrorCode.unknown_topic_or_partition, "The partition does not exist."
    found = c.state(topic, p)
    if found is None:
        return ErrorCode.unknown_topic_or_partition, "The partition does not exist."
    state, stat = found
    live = c.eligible()
    if election_type == PREFERRED:
        if state["leader"] == replicas[0]:
            return ErrorCode.election_not_needed, None
        elected = elections.preferred(replicas, state["isr"], live)
        failure = ErrorCode.preferred_leader_not_available, "PreferredReplicaPartitionLeaderElectionStrategy"
    else:
        if state["leader"] in live:
            return ErrorCode.election_not_needed, None
        elected = elections.offline(replicas, state["isr"], live, unclean=True)
        failure = ErrorCode.eligible_leaders_not_available, "OfflinePartitionLeaderElectionStrategy(true)"
    if elected is None or not c.set_state(topic, p, elected[0], state["leader_epoch"] + 1, elected[1],
                                          stat.version):
        return failure[0], f"Failed to elect leader for partition {topic}-{p} under strategy {failure[1]}"
    return ErrorCode.none, None


def preferred_znode(c: Controller, data: bytes | None) -> None:
    """/admin/preferred_replica_election ({"version":1,"partitions":[{"topic":..,"partition":..}]}): a
    preferred election for those partitions, then the znode goes."""
    if data is None or not c.is_active:
        return
    try:
        partitions = [(str(e["topic"]), int(e["partition"])) for e in json.loads(data)["partitions"]]
    except (ValueError, KeyError, TypeError):
        log.error("[Controller id=%d] Ignoring an invalid %s: %r", c.broker_id, PREFERRED_ELECTION, data)
        partitions = []
    results = elect_leaders(c, PREFERRED, partitions)
    for (topic, p), (code, message) in results.items():
        if code not in (ErrorCode.none, ErrorCode.election_not_needed):
            log.warning("[Controller id=%d] Preferred replica election for %s-%d failed: %s", c.broker_id, topic,
                        p, message or code.name)
    try:
        with c.lock:
            c.write([("delete", PREFERRED_ELECTION, -1)])
    except (ControllerMoved, NoNodeError):
        pass


def rebalance_once(c: Controller) -> None:
    """checkAndTriggerAutoLeaderRebalance: per preferred broker, when more than
    leader.imbalance.per.broker.percentage of the partitions it should lead have another leader, a preferred
    election for those whose preferred replica can lead (live, in the ISR, not being reassigned)."""
    with c.lock:
        if not c.is_active:
            return
        by_preferred: dict[int, list[tuple[TopicPartition, list[int], dict]]] = {}
        reassigning = set()
        for name in c.children("/brokers/topics"):
            found = c.topic(name)
            if found is not None:
                reassigning |= {(name, int(p)) for p in found[0].get("adding_replicas", {})}
        for tp, replicas in _assignments(c).items():
            found = c.state(*tp)
            if found is not None and replicas:
                by_preferred.setdefault(replicas[0], []).append((tp, replicas, found[0]))
        live = c.eligible()
        percentage = c.config.get_int("leader.imbalance.per.broker.percentage")
        candidates = []
        for broker, entries in by_preferred.items():
            off = [(tp, r, s) for tp, r, s in entries if s["leader"] != broker]
            if len(off) / len(entries) > percentage / 100:
                candidates += [tp for tp, r, s in off if tp not in reassigning
                               and elections.preferred(r, s["isr"], live) is not None]
        if candidates:
            log.info("[Controller id=%d] Starting replica leader election (PREFERRED) for partitions %s triggered "
                     "by AutoTriggered", c.broker_id, ",".join(f"{t}-{p}" for t, p in candidates))
            elect_leaders(c, PREFERRED, candidates)


class AutoRebalance:
    """auto.leader.rebalance.enable: the check 5 s after this broker becomes the controller, then every
    leader.imbalance.check.interval.seconds while it is."""

    def __init__(self, c: Controller) -> None:
        self.c = c
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def became_controller(self) -> None:
        if self.c.config.get_bool("auto.leader.rebalance.enable") and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="auto-leader-rebalance-task", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        delay = 5.0
        while not self._stop.wait(delay):
            try:
                rebalance_once(self.c)
            except Exception:  # a failed round (ZooKeeper away) is retried at the next
                log.exception("[Controller id=%d] Error while checking the leader imbalance", self.c.broker_id)
            delay = float(self.c.config.get_int("leader.imbalance.check.interval.seconds"))

    def stop(self) -> None:
        self._stop.set()


def install(c: Controller) -> AutoRebalance:
    """The leadership duties a broker takes on each time it becomes the controller."""
    rebalance = AutoRebalance(c)
    watching: list[bool] = []

    def elected() -> None:
        rebalance.became_controller()
        if not watching:  # fires now with the znode's data, then on each change
            watching.append(True)
            c.zk.DataWatch(PREFERRED_ELECTION, lambda data, stat: preferred_znode(c, data))
        else:
            try:
                preferred_znode(c, c.zk.get(PREFERRED_ELECTION)[0])
            except NoNodeError:
                pass

    c.listeners.append(elected)
    return rebalance
