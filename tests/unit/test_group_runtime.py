"""The group coordinator runtime on a real broker's logs (no listener, no event loop): records appended to
__consumer_offsets, a partition loaded into another runtime by replay (what a leadership change does), unloading
answering waiting requests NOT_COORDINATOR, and groups of partitions not loaded answered NOT_COORDINATOR."""

from __future__ import annotations

import time

import pytest

from brook.broker.coordinators import BrokerPartitions
from brook.broker.server import Broker
from brook.config.broker import BrokerConfig
from brook.coordinator.group.config import GroupConfig
from brook.coordinator.group.group import GroupState
from brook.coordinator.group.membership import JoinResult
from brook.coordinator.runtime import GroupCoordinatorRuntime
from brook.errors import ErrorCode

MISSING = "not coordinator"


@pytest.fixture
def host(tmp_path):
    config = BrokerConfig({"log.dirs": str(tmp_path / "data"), "listeners": "PLAINTEXT://127.0.0.1:0",
                           "offsets.topic.num.partitions": "3", "group.initial.rebalance.delay.ms": "0"})
    broker = Broker(config)
    broker.log_manager.startup(broker.log_config_for)  # Broker.start's steps before the listeners
    broker.admin.reconcile_logs()
    broker.replicas.load()
    yield BrokerPartitions(broker)
    broker.log_manager.shutdown()


def runtime_on(host: BrokerPartitions) -> GroupCoordinatorRuntime:
    return GroupCoordinatorRuntime(host, GroupConfig(min_session_timeout_ms=10, initial_rebalance_delay_ms=0,
                                                     num_partitions=3), time.time)


def join(rt: GroupCoordinatorRuntime, group: str, token: int, now: int, member_id: str = ""):  # type: ignore[no-untyped-def]
    return rt.write(group, lambda s: s.membership.join(token, group, member_id, None, "consumer", [("range", b"m")],
                                                       10_000, 30_000, "c", "/h", False, now), MISSING, now)


def stable_group(rt: GroupCoordinatorRuntime, group: str, now: int) -> str:
    result = join(rt, group, 1, now)
    joined = dict(result.completions)[1]
    assert isinstance(joined, JoinResult) and joined.error == ErrorCode.none
    member = joined.member_id
    synced = rt.write(group, lambda s: s.membership.sync(2, group, 1, member, None, None, None, {member: b"a"}, now),
                      MISSING, now)
    assert dict(synced.completions)[2] == (ErrorCode.none, b"a")
    committed = rt.write(group, lambda s: s.offsets.commit(group, 1, member, None, {("t", 0): (7, -1, "")}, now),
                         MISSING, now)
    assert committed.response == ErrorCode.none and committed.appends
    return member


def test_a_partition_loaded_elsewhere_has_the_groups_and_offsets(host) -> None:
    now = int(time.time() * 1000)
    first = runtime_on(host)
    first.load(now)
    member = stable_group(first, "g", now)
    p = first.partition_for("g")
    first.write("g", lambda s: s.offsets.txn_commit("g", 42, 0, -1, "", None, {("t", 1): (3, -1, "")}, now),
                MISSING, now)

    second = runtime_on(host)  # a broker that becomes the coordinator of that one partition
    assert second.write("g", lambda s: s.offsets.fetch("g", None), MISSING, now).response == MISSING
    assert second.load_partition(p, now) > 0
    group = second.shard("g").groups["g"]
    assert group.state is GroupState.STABLE and list(group.members) == [member]
    assert group.members[member].assignment == b"a"
    got = second.shard("g").offsets.fetch("g", [("t", 0), ("t", 1)], require_stable=True)
    assert got[("t", 0)].offset == 7
    assert got[("t", 1)] == ErrorCode.unstable_offset_commit  # the open transaction's offset is pending again
    others = [g for g in (f"x{i}" for i in range(50)) if second.partition_for(g) != p]
    assert second.write(others[0], lambda s: s.membership.heartbeat(others[0], 1, "m", None, now),
                        MISSING, now).response == MISSING


def test_unloading_answers_waiting_joins_not_coordinator(host) -> None:
    now = int(time.time() * 1000)
    rt = runtime_on(host)
    rt.load(now)
    member = stable_group(rt, "g", now)
    other = rt.write("g", lambda s: s.membership.join(6, "g", "", None, "consumer", [("range", b"m")], 10_000,
                                                      30_000, "c2", "/h", False, now), MISSING, now)
    assert other.response is None and not other.completions  # waits for the member to rejoin
    p = rt.partition_for("g")
    unloaded = rt.unload_partition(p, now)
    assert dict(unloaded.completions)[6].error == ErrorCode.not_coordinator
    assert rt.shard("g") is None
    assert rt.write("g", lambda s: s.membership.heartbeat("g", 1, member, None, now), MISSING, now).response \
        == MISSING
    assert len(rt.timer) == 0  # its deadlines went with it
